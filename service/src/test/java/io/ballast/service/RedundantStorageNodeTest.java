package io.ballast.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.azure.storage.blob.BlobServiceClientBuilder;
import io.ballast.config.ConfigLoader;
import io.ballast.config.ConfigNode;
import io.ballast.fs.PrivateFiles;
import io.ballast.service.config.NodeConfig;
import io.ballast.testkit.AzuriteServer;
import io.ballast.testkit.S3ProxyServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
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
 * Redundant storage ({@code fallback_cp.backends}) on real nodes: a CP exports to every backend,
 * and a data plane keeps serving and following when one of them is gone, reading the newest export
 * among those that answer, with each backend's state on {@code /status}.
 */
class RedundantStorageNodeTest {

  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String ADMIN_KEY = "redundant-storage-test-admin-key";
  // Not APISIX's published keyring, which a CP exporting to S3 or Azure refuses.
  private static final String KEYRING = "redundant-storage-test-keyring";

  @TempDir Path dir;
  private final List<Node> nodes = new ArrayList<>();
  private final HttpClient client = HttpClient.create();
  private DisposableServer upstream;

  @BeforeEach
  void startUpstream() {
    upstream =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .handle((request, response) -> response.sendString(Mono.just("upstream")))
            .bindNow();
  }

  @AfterEach
  void stop() {
    nodes.forEach(Node::close);
    upstream.disposeNow();
  }

  @Test
  void aDataPlaneFollowsTheBackendLeftWhenTheOtherDisappears() throws Exception {
    Path first = dir.resolve("first");
    Path second = dir.resolve("second");
    for (Path root : List.of(first, second)) {
      PrivateFiles.createFolder(root.resolve("config"));
      PrivateFiles.createFolder(root.resolve("resources"));
    }
    String backends =
        """
        backends:
          - filesystem: {path: %s, config_bucket: config, resource_bucket: resources}
          - filesystem: {path: %s, config_bucket: config, resource_bucket: resources}
        """
            .formatted(first, second);
    int admin = freePort();
    int cpStatus = freePort();
    start("cp", controlPlane(admin, cpStatus, backends));
    int proxy = freePort();
    int dpStatus = freePort();
    start("dp", dataPlane(proxy, dpStatus, backends));

    route(admin, "r1");
    await(() -> get(proxy, "/r1") == 200, "the DP to serve r1 from storage");

    // The first backend's folder goes away (an unmounted volume): nothing re-creates it.
    Files.move(first, dir.resolve("first-unmounted"));
    route(admin, "r2");

    await(() -> get(proxy, "/r2") == 200, "the DP to serve r2 from the second backend");
    assertThat(get(proxy, "/r1")).isEqualTo(200);
    assertThat(first).doesNotExist();
    JsonNode exports = status(cpStatus).at("/storage/export/backends");
    assertThat(exports.get(0).at("/name").asString())
        .isEqualTo("fallback_cp.backends[0].filesystem");
    await(
        () -> !status(cpStatus).at("/storage/export/backends/0/last_error").isNull(),
        "the CP to report the first backend's failure");
    JsonNode polls = status(dpStatus).at("/storage/backends");
    assertThat(polls.get(0).at("/name").asString())
        .isEqualTo("filesystem:" + first.resolve("resources"));
    await(
        () ->
            status(dpStatus)
                .at("/storage/backends/0/last_error")
                .asString("")
                .contains("does not exist"),
        "the DP to show the first backend's error");
    long served = status(dpStatus).at("/config/version").asLong();
    assertThat(status(dpStatus).at("/storage/backends/1/version_seen").asLong()).isEqualTo(served);
  }

  @Test
  void withS3StoppedAColdDataPlaneStartsFromAzure() throws Exception {
    try (S3ProxyServer s3 = S3ProxyServer.start(dir.resolve("s3proxy"));
        AzuriteServer azure = AzuriteServer.start(dir.resolve("azurite"))) {
      s3.createBucket("ballast-config");
      s3.createBucket("ballast-resources");
      var blobs = new BlobServiceClientBuilder().connectionString(azure.connectionString());
      blobs.buildClient().createBlobContainer("config");
      blobs.buildClient().createBlobContainer("resources");
      String backends =
          """
          backends:
            - aws_s3:
                access_key: %s
                secret_key: %s
                region: us-east-1
                endpoint: %s
                config_bucket: ballast-config
                resource_bucket: ballast-resources
                timeout: 2s
            - azure_blob:
                account_name: %s
                account_key: %s
                endpoint: %s
                config_container: config
                resource_container: resources
                timeout: 2s
          """
              .formatted(
                  S3ProxyServer.ACCESS_KEY,
                  S3ProxyServer.SECRET_KEY,
                  s3.endpoint(),
                  AzuriteServer.ACCOUNT_NAME,
                  AzuriteServer.ACCOUNT_KEY,
                  azure.blobEndpoint());
      int admin = freePort();
      int cpStatus = freePort();
      Node cp = start("cp", controlPlane(admin, cpStatus, backends));
      route(admin, "r1");
      await(
          () -> {
            JsonNode exported = status(cpStatus).at("/storage/export/backends");
            return exported.get(0).at("/exported_version").asLong() >= 1
                && exported.get(1).at("/exported_version").asLong() >= 1;
          },
          "the CP to export r1 to both backends");
      cp.close();
      nodes.remove(cp);
      s3.stop();

      int proxy = freePort();
      int dpStatus = freePort();
      start("dp", dataPlane(proxy, dpStatus, backends));

      await(() -> get(proxy, "/r1") == 200, "a cold DP to serve r1 from Azure");
      assertThat(status(dpStatus).at("/config/source").asString()).isEqualTo("storage");
      await(
          () -> !status(dpStatus).at("/storage/backends/0/last_error").isNull(),
          "the DP to show S3's failure");
      assertThat(status(dpStatus).at("/storage/backends/0/name").asString())
          .isEqualTo("aws_s3 bucket 'ballast-resources'");
      assertThat(status(dpStatus).at("/storage/backends/1/version_seen").asLong())
          .isEqualTo(status(dpStatus).at("/config/version").asLong());
    }
  }

  private String controlPlane(int admin, int status, String backends) throws IOException {
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
        ballast:
          data_dir: %s
        fallback_cp:
        %s
          cron_spec: '@every 1s'
        """
        .formatted(
            ADMIN_KEY,
            admin,
            freePort(),
            status,
            KEYRING,
            dir.resolve("data/cp"),
            backends.strip().indent(2).stripTrailing());
  }

  /** API7's storage-only data plane, on every backend of the list. */
  private String dataPlane(int proxy, int status, String backends) {
    return """
        deployment:
          role: data_plane
          role_data_plane:
            config_provider: yaml
          fallback_cp:
        %s
            poll_interval: 200ms
        apisix:
          node_listen: [{ip: 127.0.0.1, port: %d}]
          status: {ip: 127.0.0.1, port: %d}
          data_encryption:
            keyring: [%s]
        ballast:
          data_dir: %s
        """
        .formatted(
            backends.strip().indent(4).stripTrailing(),
            proxy,
            status,
            KEYRING,
            dir.resolve("data/dp"));
  }

  private Node start(String name, String yaml) throws IOException {
    Path file = Files.createDirectories(dir.resolve("conf-" + name)).resolve("config.yaml");
    Files.writeString(file, yaml);
    ConfigNode root = ConfigLoader.load(file);
    Node node = Node.start(NodeConfig.parse(root, name), root);
    nodes.add(node);
    return node;
  }

  private void route(int admin, String id) {
    String body =
        "{\"uri\":\"/"
            + id
            + "\",\"upstream\":{\"nodes\":{\"127.0.0.1:"
            + upstream.port()
            + "\":1}}}";
    int code =
        client
            .headers(h -> h.add("X-API-KEY", ADMIN_KEY).add("Content-Type", "application/json"))
            .put()
            .uri("http://127.0.0.1:" + admin + "/apisix/admin/routes/" + id)
            .send(ByteBufFlux.fromString(Mono.just(body)))
            .responseSingle((response, content) -> Mono.just(response.status().code()))
            .block(Duration.ofSeconds(10));
    assertThat(code).as("PUT route " + id).isEqualTo(201);
  }

  private int get(int port, String path) {
    return client
        .get()
        .uri("http://127.0.0.1:" + port + path)
        .responseSingle((response, body) -> Mono.just(response.status().code()))
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

  private static void await(Supplier<Boolean> condition, String what) throws InterruptedException {
    Instant deadline = Instant.now().plus(DEADLINE);
    while (!condition.get()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(100);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
