package io.ballast.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.config.ConfigLoader;
import io.ballast.config.ConfigNode;
import io.ballast.service.config.NodeConfig;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SignedExport;
import io.ballast.snapshot.SigningKeys;
import io.ballast.snapshot.SnapshotSigner;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.filesystem.FilesystemBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Export on change, end to end on real ports: with {@code cron_spec} an hour apart, a write
 * answered 2xx is in storage within {@code export_debounce} + 1 s, a restarted CP exports at once,
 * and every pointer is signed by the key the CP generated in its data folder; a data plane trusting
 * that key serves the export, one trusting another key refuses it.
 */
class ExportOnChangeNodeTest {

  private static final Duration DEBOUNCE = Duration.ofSeconds(1);
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String ADMIN_KEY = "export-test-admin-key";
  private static final String KEYRING = "export-test-keyring-0001";
  private static final ExportLayout LAYOUT = new ExportLayout("", "default");

  @TempDir Path dir;
  private final List<Node> nodes = new ArrayList<>();
  private final HttpClient client = HttpClient.create();

  @AfterEach
  void stop() {
    Collections.reverse(nodes);
    nodes.forEach(Node::close);
  }

  @Test
  void aWriteReachesStorageWithinTheDebounceAndARestartedCpExportsAtOnce() throws Exception {
    int adminPort = freePort();
    Node cp = start("cp", controlPlane(adminPort), "");
    await(() -> pointer().isPresent(), Duration.ofSeconds(2), "the export at start");

    List<Long> millis = new ArrayList<>();
    for (int i = 1; i <= 7; i++) {
      admin(adminPort, "upstreams/u" + i, "{\"nodes\":{\"127.0.0.1:1980\":1}}");
      long answered = System.nanoTime();
      long revision = i;
      await(
          () -> pointer().map(p -> p.version() >= revision).orElse(false),
          DEBOUNCE.plusSeconds(1),
          "revision " + revision + " in storage");
      millis.add(Duration.ofNanos(System.nanoTime() - answered).toMillis());
    }
    Collections.sort(millis);
    // The figure docs/design-notes.md gives as the RPO of export on change.
    System.out.printf(
        "export on change (debounce %d ms, filesystem): write 2xx -> in storage median %d ms,"
            + " min %d ms, max %d ms over %d writes%n",
        DEBOUNCE.toMillis(),
        millis.get(millis.size() / 2),
        millis.get(0),
        millis.get(millis.size() - 1),
        millis.size());

    Path signing = dir.resolve("data/cp/signing");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(signing.resolve(SnapshotSigner.GENERATED_KEY))))
        .isEqualTo("rw-------");
    SignatureVerifier cpKey =
        SignatureVerifier.trusting(
            List.of(
                SigningKeys.readPublicKey(signing.resolve(SnapshotSigner.GENERATED_PUBLIC_KEY))));
    assertThat(cpKey.verify(pointerBytes().orElseThrow()).version()).isEqualTo(7);

    cp.close();
    nodes.remove(cp);
    // Storage lost its pointer meanwhile (a bucket restored empty, say): the restarted CP puts it
    // back at once, not an hour later on its cron_spec.
    Files.delete(dir.resolve("storage/resources").resolve(LAYOUT.latestKey().value()));
    start("cp", controlPlane(adminPort), "");
    await(() -> pointer().isPresent(), Duration.ofSeconds(2), "the export after a restart");
    SignedExport again = cpKey.verify(pointerBytes().orElseThrow());
    assertThat(again.version()).isEqualTo(7);
    assertThat(again.manifest().routes()).isZero();
  }

  @Test
  void aDataPlaneServesOnlyExportsSignedByAKeyItTrusts() throws Exception {
    int adminPort = freePort();
    start("cp", controlPlane(adminPort), "");
    admin(adminPort, "upstreams/u1", "{\"nodes\":{\"127.0.0.1:1980\":1}}");
    admin(adminPort, "routes/r1", "{\"uri\":\"/hello\",\"upstream_id\":\"u1\"}");
    await(
        () -> pointer().map(p -> p.version() >= 2).orElse(false),
        Duration.ofSeconds(5),
        "the route in storage");
    Path cpPublicKey = dir.resolve("data/cp/signing/" + SnapshotSigner.GENERATED_PUBLIC_KEY);
    Path otherPublicKey = dir.resolve("other.pub.pem");
    SigningKeys.writePublicKey(SigningKeys.generate().getPublic(), otherPublicKey);

    int trustingStatus = freePort();
    start("dp-trusting", dataPlane(trustingStatus), trusting(cpPublicKey));
    await(
        () -> status(trustingStatus).at("/config/version").asLong() == 2,
        Duration.ofSeconds(10),
        "the trusting DP to serve version 2");

    int otherStatus = freePort();
    start("dp-other", dataPlane(otherStatus), trusting(otherPublicKey));
    await(
        () -> status(otherStatus).at("/last_rejection/reason").asString().contains("not trusted"),
        Duration.ofSeconds(10),
        "the DP trusting another key to refuse the export");
    assertThat(status(otherStatus).at("/config/source").asString()).isEqualTo("none");
  }

  private String controlPlane(int adminPort) throws IOException {
    return """
        deployment:
          role: control_plane
          admin:
            admin_key:
              - {name: admin, key: %s, role: admin}
            admin_listen: {ip: 127.0.0.1, port: %d}
          role_control_plane:
            conf_server:
              listen: 127.0.0.1:%d
        apisix:
          status: {ip: 127.0.0.1, port: %d}
          data_encryption:
            keyring: [%s]
        %s
        """
        .formatted(ADMIN_KEY, adminPort, freePort(), freePort(), KEYRING, storage());
  }

  private String dataPlane(int statusPort) throws IOException {
    return """
        deployment:
          role: data_plane
          role_data_plane:
            config_provider: yaml
        apisix:
          node_listen:
            - {ip: 127.0.0.1, port: %d}
          status: {ip: 127.0.0.1, port: %d}
          data_encryption:
            keyring: [%s]
        %s
        """
        .formatted(freePort(), statusPort, KEYRING, storage());
  }

  private static String trusting(Path publicKey) {
    return "  snapshot_signing:\n    trusted_keys: [" + publicKey + "]\n";
  }

  private String storage() {
    return """
        fallback_cp:
          filesystem:
            path: %s
            config_bucket: config
            resource_bucket: resources
          cron_spec: '@every 1h'
          poll_interval: 1s
          export_debounce: %ds
        """
        .formatted(dir.resolve("storage"), DEBOUNCE.toSeconds());
  }

  private Node start(String name, String yaml, String ballastKeys) throws IOException {
    Path conf = Files.createDirectories(dir.resolve("conf-" + name));
    // Buckets must exist: the storage folder lies outside each node's data_dir.
    Files.createDirectories(dir.resolve("storage/config"));
    Files.createDirectories(dir.resolve("storage/resources"));
    Path file = conf.resolve("config.yaml");
    Files.writeString(
        file, yaml + "ballast:\n  data_dir: " + dir.resolve("data/" + name) + "\n" + ballastKeys);
    ConfigNode root = ConfigLoader.load(file);
    Node node = Node.start(NodeConfig.parse(root, name), root);
    nodes.add(node);
    return node;
  }

  /** The pointer in storage, signature unchecked; empty when there is none. */
  private Optional<SignedExport> pointer() {
    return pointerBytes().map(bytes -> SignatureVerifier.notRequired().verify(bytes));
  }

  private Optional<byte[]> pointerBytes() {
    ReadResult result =
        new FilesystemBackend(dir.resolve("storage"))
            .bucket("resources")
            .get(LAYOUT.latestKey(), ReadCondition.NONE)
            .block(Duration.ofSeconds(5));
    if (!(result instanceof ReadResult.Found found)) {
      return Optional.empty();
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    found
        .body()
        .doOnNext(
            buffer -> {
              byte[] chunk = new byte[buffer.remaining()];
              buffer.get(chunk);
              bytes.writeBytes(chunk);
            })
        .blockLast(Duration.ofSeconds(5));
    return Optional.of(bytes.toByteArray());
  }

  private void admin(int port, String path, String body) {
    int status =
        client
            .headers(h -> h.add("X-API-KEY", ADMIN_KEY).add("Content-Type", "application/json"))
            .put()
            .uri("http://127.0.0.1:" + port + "/apisix/admin/" + path)
            .send(ByteBufFlux.fromString(Mono.just(body)))
            .responseSingle((response, content) -> Mono.just(response.status().code()))
            .block(Duration.ofSeconds(10));
    assertThat(status).as("PUT " + path).isEqualTo(201);
  }

  private JsonNode status(int port) {
    return JSON.readTree(
        client
            .get()
            .uri("http://127.0.0.1:" + port + "/status")
            .responseContent()
            .aggregate()
            .asString()
            .block(Duration.ofSeconds(10)));
  }

  private static void await(Supplier<Boolean> condition, Duration within, String what) {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.get()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + within + ": " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
