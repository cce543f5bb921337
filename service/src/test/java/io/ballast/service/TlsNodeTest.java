package io.ballast.service;

import static io.ballast.gateway.tls.TestCertificates.commonName;
import static io.ballast.gateway.tls.TestCertificates.handshake;
import static io.ballast.gateway.tls.TestCertificates.pem;
import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.config.ConfigLoader;
import io.ballast.config.ConfigNode;
import io.ballast.service.config.NodeConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.netty.http.client.HttpClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A standalone data plane with {@code apisix.ssl.listen}: it serves the file's ssls by SNI, takes a
 * replaced certificate on the next handshake and keeps the last good one through a broken ssl.
 */
class TlsNodeTest {

  private static final Duration DEADLINE = Duration.ofSeconds(20);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir Path dir;
  private Node node;

  @AfterEach
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void servesTheFilesCertificatesAndKeepsTheLastGoodOne() throws Exception {
    Path conf = Files.createDirectories(dir.resolve("conf"));
    Path apisixYaml = conf.resolve("apisix.yaml");
    Files.writeString(apisixYaml, ssl(pem("a.pem"), pem("a.key")));
    int tlsPort = freePort();
    int statusPort = freePort();
    Files.writeString(
        conf.resolve("config.yaml"),
        """
        deployment:
          role: data_plane
          role_data_plane:
            config_provider: yaml
        apisix:
          node_listen: [{ip: 127.0.0.1, port: %d}]
          ssl:
            listen: [{ip: 127.0.0.1, port: %d}]
          status: {ip: 127.0.0.1, port: %d}
        ballast:
          data_dir: %s
        """
            .formatted(freePort(), tlsPort, statusPort, dir.resolve("data")));
    ConfigNode root = ConfigLoader.load(conf.resolve("config.yaml"));
    node = Node.start(NodeConfig.parse(root, "test"), root);
    InetSocketAddress tls = new InetSocketAddress("127.0.0.1", tlsPort);

    await(() -> "a.example.com".equals(servedName(tls)), "a's certificate");
    assertThat(status(statusPort).get("ssl_listen").get(0).asString())
        .isEqualTo("127.0.0.1:" + tlsPort);

    Files.writeString(apisixYaml, ssl(pem("b.pem"), pem("b.key")));
    await(() -> "b.example.com".equals(servedName(tls)), "the replaced certificate");

    // A key that does not belong to the certificate: refused, b still served.
    Files.writeString(apisixYaml, ssl(pem("a.pem"), pem("b.key")));
    await(
        () -> lastError(statusPort).contains("ssl '1': key: does not match"),
        "the status to report the broken ssl");
    assertThat(lastError(statusPort)).doesNotContain("PRIVATE KEY");
    assertThat(servedName(tls)).isEqualTo("b.example.com");
  }

  private static String ssl(String cert, String key) {
    return """
        ssls:
          - id: "1"
            snis: [shop.example.com]
            cert: |
        %s
            key: |
        %s
        #END
        """
        .formatted(cert.indent(6).stripTrailing(), key.indent(6).stripTrailing());
  }

  private static String servedName(InetSocketAddress tls) {
    try {
      return commonName(handshake(tls, "shop.example.com"));
    } catch (IOException e) {
      return e.toString();
    }
  }

  private static JsonNode status(int port) {
    String body =
        HttpClient.create()
            .get()
            .uri("http://127.0.0.1:" + port + "/status")
            .responseContent()
            .aggregate()
            .asString()
            .block(Duration.ofSeconds(10));
    return JSON.readTree(body);
  }

  private static String lastError(int statusPort) {
    JsonNode error = status(statusPort).get("standalone_file").get("last_error");
    return error == null ? "" : error.asString();
  }

  /** Polls until {@code condition} holds; the deadline only bounds a failing test. */
  private static void await(Callable<Boolean> condition, String what) throws Exception {
    Instant deadline = Instant.now().plus(DEADLINE);
    while (!condition.call()) {
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
