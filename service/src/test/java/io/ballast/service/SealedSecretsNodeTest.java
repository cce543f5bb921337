package io.ballast.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigLoader;
import io.ballast.config.ConfigNode;
import io.ballast.fs.PrivateFiles;
import io.ballast.service.config.NodeConfig;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Secrets sealed at rest, end to end on real ports: a CP seals a consumer's key and password and an
 * ssl's private key, exports to a storage folder and stops; a cold DP with the keyring serves from
 * storage and authenticates the consumer by its key; a DP without it refuses the snapshot. No file
 * written on the way (the CP's store and snapshots, storage, the DP's downloads and cache) holds a
 * secret in plain text, and every one is 0600 in a 0700 folder.
 */
class SealedSecretsNodeTest {

  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String ADMIN_KEY = "sealed-test-admin-key";
  private static final String KEYRING = "test-keyring-entry-0001";
  private static final String CONSUMER_KEY = "alice-key-0123456789";
  private static final String CONSUMER_PASSWORD = "alice-password-98765";

  @TempDir Path dir;
  private DisposableServer upstream;
  private Node node;
  private SelfSignedCertificate certificate;
  private final HttpClient client = HttpClient.create();

  @BeforeEach
  void start() throws Exception {
    upstream =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .handle((request, response) -> response.sendString(Mono.just("upstream")))
            .bindNow();
    certificate = new SelfSignedCertificate("secure.example");
    // The storage folder lies outside each node's data_dir: its buckets must exist.
    PrivateFiles.createFolder(dir.resolve("data/storage/config"));
    PrivateFiles.createFolder(dir.resolve("data/storage/resources"));
  }

  @AfterEach
  void stop() {
    if (node != null) {
      node.close();
    }
    upstream.disposeNow();
    certificate.delete();
  }

  @Test
  void aColdDataPlaneWithTheKeyringServesWhatNoFileShowsInPlainText() throws Exception {
    int adminPort = freePort();
    int cpStatus = freePort();
    node =
        start(
            "cp",
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
              data_encryption:
                keyring: [%s]
            %s
            """
                .formatted(ADMIN_KEY, adminPort, freePort(), cpStatus, KEYRING, storage()));

    admin(adminPort, "upstreams/u1", "{\"nodes\":{\"127.0.0.1:" + upstream.port() + "\":1}}");
    admin(
        adminPort,
        "consumers/alice",
        "{\"plugins\":{\"key-auth\":{\"key\":\""
            + CONSUMER_KEY
            + "\"},\"basic-auth\":{\"username\":\"alice\",\"password\":\""
            + CONSUMER_PASSWORD
            + "\"}}}");
    admin(
        adminPort,
        "routes/r1",
        "{\"uri\":\"/hello\",\"upstream_id\":\"u1\",\"plugins\":{\"key-auth\":{}}}");
    String privateKey = Files.readString(certificate.privateKey().toPath());
    JsonNode ssl =
        JSON.createObjectNode()
            .put("cert", Files.readString(certificate.certificate().toPath()))
            .put("key", privateKey)
            .set("snis", JSON.createArrayNode().add("secure.example"));
    admin(adminPort, "ssls/s1", ssl.toString());
    await(
        () -> status(cpStatus).at("/storage/export/backends/0/exported_version").asLong() >= 4,
        "the CP to export revision 4");
    node.close();
    node = null;

    int proxyPort = freePort();
    int dpStatus = freePort();
    node = start("dp", dataPlane(proxyPort, dpStatus, KEYRING));
    await(() -> "upstream".equals(get(proxyPort, CONSUMER_KEY)), "the DP to serve alice");
    assertThat(get(proxyPort, "not-a-key")).isEqualTo("status 401");
    assertThat(get(proxyPort, null)).isEqualTo("status 401");
    assertThat(status(dpStatus).at("/config/source").asString()).isEqualTo("storage");
    node.close();
    node = null;

    // Every file: the CP's store and snapshots, storage, the DP's downloads and cache.
    String everything = readAll(dir.resolve("data"));
    assertThat(everything).contains("key-auth").contains("secure.example");
    String keyLine = privateKey.lines().skip(1).findFirst().orElseThrow();
    assertThat(everything)
        .doesNotContain(CONSUMER_KEY)
        .doesNotContain(CONSUMER_PASSWORD)
        .doesNotContain(keyLine);
    assertPrivate(dir.resolve("data"));

    // A DP whose keyring does not open the snapshot serves nothing from it and says why.
    int otherStatus = freePort();
    int otherProxy = freePort();
    node = start("dp-other", dataPlane(otherProxy, otherStatus, "another-keyring-entry-1"));
    await(
        () ->
            status(otherStatus)
                .at("/last_rejection/reason")
                .asString()
                .contains("consumer 'alice'"),
        "the DP without the keyring to refuse the snapshot");
    assertThat(status(otherStatus).at("/last_rejection/reason").asString())
        .contains("plugins.basic-auth.password: is sealed with a key that no entry of")
        .doesNotContain(CONSUMER_KEY);
    assertThat(status(otherStatus).at("/config/source").asString()).isEqualTo("none");
    assertThat(get(otherProxy, CONSUMER_KEY)).isEqualTo("status 404");
  }

  @Test
  void aControlPlaneWhoseKeyringCannotOpenItsStoreDoesNotStart() throws Exception {
    int adminPort = freePort();
    node = start("cp", controlPlane(adminPort, KEYRING));
    admin(
        adminPort,
        "consumers/alice",
        "{\"plugins\":{\"key-auth\":{\"key\":\"" + CONSUMER_KEY + "\"}}}");
    node.close();
    node = null;

    assertThatThrownBy(() -> start("cp", controlPlane(freePort(), "another-keyring-entry-1")))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(
            dir.resolve("conf-cp/config.yaml")
                + ": apisix.data_encryption.keyring: cannot open the config store in ")
        .hasMessageEndingWith(
            "consumer 'alice': plugins.key-auth.key: is sealed with a key that no entry of"
                + " apisix.data_encryption.keyring opens");
  }

  private String controlPlane(int adminPort, String keyring) throws IOException {
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
        """
        .formatted(ADMIN_KEY, adminPort, freePort(), freePort(), keyring);
  }

  private String storage() {
    return """
        fallback_cp:
          filesystem:
            path: %s
            config_bucket: config
            resource_bucket: resources
          cron_spec: '@every 1s'
        """
        .formatted(dir.resolve("data/storage"));
  }

  private String dataPlane(int proxyPort, int statusPort, String keyring) {
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
        .formatted(proxyPort, statusPort, keyring, storage());
  }

  private Node start(String name, String yaml) throws IOException {
    Path conf = Files.createDirectories(dir.resolve("conf-" + name));
    Path file = conf.resolve("config.yaml");
    Files.writeString(file, yaml + "ballast:\n  data_dir: " + dir.resolve("data/" + name) + "\n");
    ConfigNode root = ConfigLoader.load(file);
    return Node.start(NodeConfig.parse(root, name), root);
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

  private String get(int port, String apikey) {
    return client
        .headers(
            h -> {
              if (apikey != null) {
                h.add("apikey", apikey);
              }
            })
        .get()
        .uri("http://127.0.0.1:" + port + "/hello")
        .responseSingle(
            (response, body) ->
                response.status().code() == 200
                    ? body.asString()
                    : Mono.just("status " + response.status().code()))
        .block(Duration.ofSeconds(10));
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

  /** Every file's bytes, and every gzip stream inside them (snapshot bodies) decompressed. */
  private static String readAll(Path root) throws IOException {
    StringBuilder all = new StringBuilder();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        byte[] bytes = Files.readAllBytes(file);
        all.append(new String(bytes, StandardCharsets.ISO_8859_1));
        for (int i = 0; i + 1 < bytes.length; i++) {
          if ((bytes[i] & 0xff) == 0x1f && (bytes[i + 1] & 0xff) == 0x8b) {
            all.append(gunzip(bytes, i));
          }
        }
      }
    }
    return all.toString();
  }

  private static String gunzip(byte[] bytes, int offset) {
    try (InputStream in =
        new GZIPInputStream(new ByteArrayInputStream(bytes, offset, bytes.length - offset))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return ""; // two bytes that only looked like a gzip header
    }
  }

  private static void assertPrivate(Path root) throws IOException {
    List<Path> all;
    try (Stream<Path> paths = Files.walk(root)) {
      all = paths.toList();
    }
    assertThat(all).hasSizeGreaterThan(10);
    for (Path path : all) {
      assertThat(Files.getPosixFilePermissions(path))
          .as(path.toString())
          .isEqualTo(Files.isDirectory(path) ? PrivateFiles.FOLDER : PrivateFiles.FILE);
    }
  }

  private static void await(Supplier<Boolean> condition, String what) {
    Instant deadline = Instant.now().plus(DEADLINE);
    while (!condition.get()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        Thread.sleep(100);
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
