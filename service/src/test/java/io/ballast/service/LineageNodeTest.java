package io.ballast.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.config.ConfigLoader;
import io.ballast.config.ConfigNode;
import io.ballast.controlplane.LineageChoice;
import io.ballast.service.config.NodeConfig;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SigningKeys;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.filesystem.FilesystemBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * One lineage across control plane restarts, on real ports and a storage folder: a CP whose store
 * was wiped imports the newest export and continues above it; a CP with another store is paused
 * until restarted with {@code --lineage}.
 */
class LineageNodeTest {

  private static final Duration DEADLINE = Duration.ofSeconds(20);
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String ADMIN_KEY = "lineage-test-admin-key";

  @TempDir Path dir;
  private Path signingKey;
  private Node node;
  private final HttpClient client = HttpClient.create();

  @BeforeEach
  void storage() throws IOException {
    Files.createDirectories(dir.resolve("storage/resources"));
    Files.createDirectories(dir.resolve("storage/config"));
    // One key for every CP here: a CP imports only exports signed by a key it trusts.
    signingKey = dir.resolve("signing.pem");
    SigningKeys.writePrivateKey(SigningKeys.generate().getPrivate(), signingKey);
  }

  @AfterEach
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  /** A CP on fresh ports with its data in {@code data/<name>}; with or without storage. */
  private final class ControlPlane {
    final String name;
    final int adminPort = freePort();
    final int statusPort = freePort();
    final int confPort = freePort();

    ControlPlane(String name) {
      this.name = name;
    }

    Node start(boolean withStorage, LineageChoice choice) throws IOException {
      String yaml =
          """
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
          ballast:
            data_dir: %s
            snapshot_signing:
              private_key: %s
          """
              .formatted(
                  ADMIN_KEY,
                  adminPort,
                  confPort,
                  statusPort,
                  dir.resolve("data/" + name),
                  signingKey);
      if (withStorage) {
        yaml +=
            """
            fallback_cp:
              filesystem:
                path: %s
                config_bucket: config
                resource_bucket: resources
              cron_spec: '@every 1s'
              export_debounce: 100ms
            """
                .formatted(dir.resolve("storage"));
      }
      Path file = Files.createDirectories(dir.resolve("conf-" + name)).resolve("config.yaml");
      Files.writeString(file, yaml);
      ConfigNode root = ConfigLoader.load(file);
      node = Node.start(NodeConfig.parse(root, name), root, choice);
      return node;
    }

    void stop() {
      node.close();
      node = null;
    }

    void wipeStore() throws IOException {
      try (Stream<Path> files = Files.walk(dir.resolve("data/" + name + "/store"))) {
        for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(file);
        }
      }
    }

    void putUpstream(String id) {
      int status =
          client
              .headers(h -> h.add("X-API-KEY", ADMIN_KEY).add("Content-Type", "application/json"))
              .put()
              .uri("http://127.0.0.1:" + adminPort + "/apisix/admin/upstreams/" + id)
              .send(ByteBufFlux.fromString(Mono.just("{\"nodes\":{\"127.0.0.1:1980\":1}}")))
              .responseSingle((response, content) -> Mono.just(response.status().code()))
              .block(Duration.ofSeconds(10));
      assertThat(status).as("PUT upstream " + id).isIn(200, 201);
    }

    JsonNode status() {
      return JSON.readTree(
          client
              .get()
              .uri("http://127.0.0.1:" + statusPort + "/status")
              .responseContent()
              .aggregate()
              .asString()
              .block(Duration.ofSeconds(10)));
    }
  }

  /** The pointer in storage, its signature unchecked; null while there is none. */
  private ExportManifest pointer() {
    ReadResult result =
        new FilesystemBackend(dir.resolve("storage"))
            .bucket("resources")
            .get(new ExportLayout("", "default").latestKey(), ReadCondition.NONE)
            .block(Duration.ofSeconds(5));
    if (!(result instanceof ReadResult.Found found)) {
      return null;
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
    return SignatureVerifier.notRequired().verify(bytes.toByteArray()).manifest();
  }

  private ExportManifest awaitPointer(long version) throws Exception {
    await(
        "storage's pointer at version " + version,
        () -> pointer() != null && pointer().version() == version);
    return pointer();
  }

  private static long upstreams(ExportManifest manifest) {
    return manifest.part(SnapshotKind.RESOURCES).counts().getOrDefault("upstreams", 0L);
  }

  /** A CP that exported ten versions of its store, then stopped. */
  private String tenVersionsExportedBy(ControlPlane cp) throws Exception {
    cp.start(true, LineageChoice.UNDECIDED);
    for (int i = 0; i < 10; i++) {
      cp.putUpstream("u" + i);
    }
    String lineage = awaitPointer(10).lineage();
    assertThat(cp.status().get("lineage").get("store_lineage").asString()).isEqualTo(lineage);
    cp.stop();
    return lineage;
  }

  @Test
  void aWipedStoreImportsVersionTenAndTheNextWriteIsElevenInStorage() throws Exception {
    ControlPlane cp = new ControlPlane("cp");
    String lineage = tenVersionsExportedBy(cp);

    cp.wipeStore();
    cp.start(true, LineageChoice.UNDECIDED);
    JsonNode status = cp.status();
    assertThat(status.get("store_revision").asLong()).isEqualTo(10);
    assertThat(status.get("lineage").get("state").asString()).isEqualTo("imported");
    assertThat(status.get("lineage").get("store_lineage").asString()).isEqualTo(lineage);

    cp.putUpstream("after-restart");
    ExportManifest pointer = awaitPointer(11);
    assertThat(pointer.lineage()).isEqualTo(lineage);
    assertThat(upstreams(pointer)).isEqualTo(11);
  }

  @Test
  void aForeignStoreIsPausedUntilRestartedWithLineageStore() throws Exception {
    String storageLineage = tenVersionsExportedBy(new ControlPlane("first"));

    ControlPlane other = new ControlPlane("other");
    other.start(false, LineageChoice.UNDECIDED);
    other.putUpstream("mine");
    other.stop();

    other.start(true, LineageChoice.UNDECIDED);
    JsonNode lineage = other.status().get("lineage");
    assertThat(lineage.get("state").asString()).isEqualTo("paused");
    assertThat(lineage.get("detail").asString()).contains("--lineage=storage", "--lineage=store");
    other.putUpstream("written-while-paused");
    Thread.sleep(2_000); // more than a cron tick and the debounce
    assertThat(pointer().version()).isEqualTo(10);
    assertThat(pointer().lineage()).isEqualTo(storageLineage);
    other.stop();

    other.start(true, LineageChoice.STORE);
    ExportManifest pointer = awaitPointer(11);
    assertThat(pointer.lineage())
        .isEqualTo(other.status().get("lineage").get("store_lineage").asString())
        .isNotEqualTo(storageLineage);
    assertThat(upstreams(pointer)).isEqualTo(2);
  }

  private static void await(String what, Supplier<Boolean> condition) throws InterruptedException {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!condition.get()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
