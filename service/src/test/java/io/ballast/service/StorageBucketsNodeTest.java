package io.ballast.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.config.ConfigLoader;
import io.ballast.config.ConfigNode;
import io.ballast.service.config.NodeConfig;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Storage paths that mean what they say, on real nodes: the embedded default creates its own bucket
 * folders inside its data_dir; a data plane whose bucket folder is missing serves what its CP sends
 * but is not ready, names the bucket, and becomes ready once the folder exists. (A CP with a
 * missing bucket does not start: {@link StartupFailureTest}.)
 */
class StorageBucketsNodeTest {

  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String ADMIN_KEY = "storage-buckets-test-admin-key";

  @TempDir Path dir;
  private final List<Node> nodes = new ArrayList<>();
  private final HttpClient client = HttpClient.create();

  @AfterEach
  void stop() {
    nodes.forEach(Node::close);
  }

  @Test
  void theEmbeddedDefaultCreatesItsOwnBucketFoldersInItsDataDir() throws Exception {
    int status = freePort();
    start(
        "default",
        """
        deployment:
          role: traditional
          admin:
            admin_key:
              - {name: admin, key: %s, role: admin}
            admin_listen: {ip: 127.0.0.1, port: %d}
        apisix:
          node_listen: [{ip: 127.0.0.1, port: %d}]
          status: {ip: 127.0.0.1, port: %d}
        ballast:
          data_dir: %s
        fallback_cp:
          filesystem:
            path: %s
            config_bucket: ballast-config
            resource_bucket: ballast-resources
        """
            .formatted(
                ADMIN_KEY,
                freePort(),
                freePort(),
                status,
                dir.resolve("data"),
                dir.resolve("data/storage")));

    assertThat(dir.resolve("data/storage/ballast-config")).isDirectory();
    assertThat(dir.resolve("data/storage/ballast-resources")).isDirectory();
    await(() -> ready(status) == 200, "the node to be ready");
  }

  @Test
  void aDataPlaneWithAMissingBucketIsNotReadyAndNamesItUntilItExists() throws Exception {
    Path shared = dir.resolve("shared");
    Files.createDirectories(shared.resolve("config"));
    Files.createDirectories(shared.resolve("resources"));
    int confServer = freePort();
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
        ballast:
          data_dir: %s
        fallback_cp:
          filesystem: {path: %s, config_bucket: config, resource_bucket: resources}
        """
            .formatted(
                ADMIN_KEY, freePort(), confServer, freePort(), dir.resolve("data/cp"), shared));

    // The DP's storage path has a typo: the CP is followed, but the node is not ready.
    Path typo = dir.resolve("shraed");
    int status = freePort();
    start(
        "dp",
        """
        deployment:
          role: data_plane
          role_data_plane:
            config_provider: control_plane
            control_plane:
              host: [http://127.0.0.1:%d]
          fallback_cp:
            filesystem: {path: %s, config_bucket: config, resource_bucket: resources}
            poll_interval: 200ms
        apisix:
          node_listen: [{ip: 127.0.0.1, port: %d}]
          status: {ip: 127.0.0.1, port: %d}
        ballast:
          data_dir: %s
        """
            .formatted(confServer, typo, freePort(), status, dir.resolve("data/dp")));

    await(() -> status(status).at("/config/source").asString().equals("control_plane"), "CP");
    assertThat(ready(status)).isEqualTo(503);
    JsonNode missing = status(status).at("/storage/missing_buckets");
    assertThat(missing.at("/deployment.fallback_cp.filesystem.resource_bucket").asString())
        .isEqualTo(
            "filesystem bucket 'resources' does not exist: no folder "
                + typo.resolve("resources")
                + " (buckets are never created; create the folder)");
    assertThat(missing.has("deployment.fallback_cp.filesystem.config_bucket")).isTrue();
    assertThat(typo).doesNotExist();

    Files.createDirectories(typo.resolve("config"));
    Files.createDirectories(typo.resolve("resources"));
    await(() -> ready(status) == 200, "the DP to be ready once its buckets exist");
    assertThat(status(status).at("/storage").has("missing_buckets")).isFalse();
  }

  private void start(String name, String yaml) throws IOException {
    Path file = Files.createDirectories(dir.resolve("conf-" + name)).resolve("config.yaml");
    Files.writeString(file, yaml);
    ConfigNode root = ConfigLoader.load(file);
    nodes.add(Node.start(NodeConfig.parse(root, name), root));
  }

  private int ready(int port) {
    return client
        .get()
        .uri("http://127.0.0.1:" + port + "/status/ready")
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
      Thread.sleep(50);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
