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
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A data plane with {@code config_provider: yaml} and no {@code fallback_cp}, on real ports: it
 * proxies what {@code conf/apisix.yaml} says, follows edits, and keeps serving through a broken or
 * half-written file.
 */
class StandaloneFileNodeTest {

  private static final Duration DEADLINE = Duration.ofSeconds(20);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir Path dir;
  private Path apisixYaml;
  private DisposableServer upstreamA;
  private DisposableServer upstreamB;
  private Node node;
  private int proxyPort;
  private int statusPort;
  private final HttpClient client = HttpClient.create();

  @BeforeEach
  void startUpstreams() {
    upstreamA = upstream("A");
    upstreamB = upstream("B");
  }

  @AfterEach
  void stop() {
    if (node != null) {
      node.close();
    }
    upstreamA.disposeNow();
    upstreamB.disposeNow();
  }

  @Test
  void servesTheFileFollowsItsEditsAndSurvivesBrokenOrHalfWrittenOnes() throws IOException {
    Path conf = Files.createDirectories(dir.resolve("conf"));
    apisixYaml = conf.resolve("apisix.yaml");
    Files.writeString(apisixYaml, routeTo(upstreamA) + "#END\n");
    startNode(conf.resolve("config.yaml"));

    assertThat(get("/hello")).isEqualTo("A");
    long first = status().get("config").get("version").asLong();
    assertThat(status().get("config").get("source").asString()).isEqualTo("file");
    assertThat(status().at("/data_plane/mode").asString()).isEqualTo("file");
    assertThat(status().at("/data_plane/transitions/0/from").asString()).isEqualTo("not_serving");

    // An edit: the route now goes to B.
    Files.writeString(apisixYaml, routeTo(upstreamB) + "#END\n");
    await(() -> "B".equals(get("/hello")), "the edited route to serve B");
    long second = status().get("config").get("version").asLong();
    assertThat(second).isGreaterThan(first);

    // A file that does not validate: B is still served, the status says why.
    Files.writeString(
        apisixYaml, "routes:\n  - id: hello\n    uri: /hello\n    upstream_id: nowhere\n#END\n");
    await(
        () -> lastError().contains("upstream 'nowhere' does not exist"),
        "the status to report the broken file");
    assertThat(lastError()).contains(apisixYaml.toString()).contains("route 'hello'");
    assertThat(get("/hello")).isEqualTo("B");
    assertThat(status().get("config").get("version").asLong()).isEqualTo(second);
    assertThat(status().at("/data_plane/mode").asString()).isEqualTo("file");

    // A half-written file (no #END yet): ignored, B still served.
    Files.writeString(apisixYaml, routeTo(upstreamA));
    await(() -> lastError().contains("#END"), "the status to report the missing #END");
    assertThat(get("/hello")).isEqualTo("B");
    assertThat(status().get("config").get("version").asLong()).isEqualTo(second);

    // The writer finishes: the file is taken and the error clears.
    Files.writeString(apisixYaml, routeTo(upstreamA) + "#END\n");
    await(() -> "A".equals(get("/hello")), "the completed file to serve A");
    assertThat(status().get("standalone_file").has("last_error")).isFalse();
    assertThat(status().get("config").get("version").asLong()).isGreaterThan(second);
  }

  @Test
  void readsApisixJsonWhenTheProviderIsJson() throws IOException {
    Path conf = Files.createDirectories(dir.resolve("conf"));
    Files.writeString(
        conf.resolve("apisix.json"),
        "{\"routes\": [{\"id\": \"hello\", \"uri\": \"/hello\", \"upstream\": {\"type\":"
            + " \"roundrobin\", \"nodes\": {\"127.0.0.1:"
            + upstreamB.port()
            + "\": 1}}}]}");
    writeNodeFile(conf.resolve("config.yaml"), "json");
    startNode(conf.resolve("config.yaml"));

    assertThat(get("/hello")).isEqualTo("B");
  }

  private void startNode(Path configFile) throws IOException {
    if (!Files.exists(configFile)) {
      writeNodeFile(configFile, "yaml");
    }
    ConfigNode root = ConfigLoader.load(configFile);
    node = Node.start(NodeConfig.parse(root, "test"), root);
  }

  private void writeNodeFile(Path configFile, String provider) throws IOException {
    proxyPort = freePort();
    statusPort = freePort();
    Files.writeString(
        configFile,
        """
        deployment:
          role: data_plane
          role_data_plane:
            config_provider: %s
        apisix:
          node_listen:
            - ip: 127.0.0.1
              port: %d
          status:
            ip: 127.0.0.1
            port: %d
        ballast:
          data_dir: %s
        """
            .formatted(provider, proxyPort, statusPort, dir.resolve("data")));
  }

  private static String routeTo(DisposableServer upstream) {
    return """
        routes:
          - id: hello
            uri: /hello
            upstream_id: up
        upstreams:
          - id: up
            type: roundrobin
            nodes:
              "127.0.0.1:%d": 1
        """
        .formatted(upstream.port());
  }

  private static DisposableServer upstream(String name) {
    return HttpServer.create()
        .host("127.0.0.1")
        .port(0)
        .handle((request, response) -> response.sendString(Mono.just(name)))
        .bindNow();
  }

  private String get(String path) {
    return client
        .get()
        .uri("http://127.0.0.1:" + proxyPort + path)
        .responseSingle(
            (response, body) ->
                response.status().code() == 200
                    ? body.asString()
                    : Mono.just("status " + response.status().code()))
        .block(Duration.ofSeconds(10));
  }

  private JsonNode status() {
    String body =
        client
            .get()
            .uri("http://127.0.0.1:" + statusPort + "/status")
            .responseContent()
            .aggregate()
            .asString()
            .block(Duration.ofSeconds(10));
    return JSON.readTree(body);
  }

  private String lastError() {
    JsonNode error = status().get("standalone_file").get("last_error");
    return error == null ? "" : error.asString();
  }

  /** Polls until {@code condition} holds; the deadline only bounds a failing test. */
  private static void await(Supplier<Boolean> condition, String what) {
    Instant deadline = Instant.now().plus(DEADLINE);
    while (!condition.get()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        Thread.sleep(50);
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
