package io.ballast.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ballast.config.ConfigException;
import io.ballast.config.ConfigLoader;
import io.ballast.config.ConfigNode;
import io.ballast.gateway.tls.ChannelTls;
import io.ballast.gateway.tls.ChannelTls.PemFile;
import io.ballast.gateway.tls.GeneratedCertificates;
import io.ballast.gateway.tls.GeneratedCertificates.Ca;
import io.ballast.service.config.NodeConfig;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * A control plane and data planes in this JVM, on the channel APISIX's keys configure: mutual TLS
 * with certificates made here, gateway groups named by the client certificate's CN, host names
 * verified, files re-read without a restart, and the WARN for a plain conf server beyond loopback.
 */
class ControlPlaneChannelTest {

  private static final Duration DEADLINE = Duration.ofSeconds(20);
  private static final String ADMIN_KEY = "channel-test-admin-key-0123456789";

  @TempDir Path dir;

  private final Ca ca = GeneratedCertificates.ca("ballast-test-ca");
  private final List<Node> nodes = new ArrayList<>();
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private int confPort;
  private int adminPort;

  @BeforeEach
  void captureLogs() {
    logs.start();
    ((Logger) LoggerFactory.getLogger(Node.class)).addAppender(logs);
    ((Logger) LoggerFactory.getLogger(ChannelTls.class)).addAppender(logs);
  }

  @AfterEach
  void stop() {
    ((Logger) LoggerFactory.getLogger(Node.class)).detachAppender(logs);
    ((Logger) LoggerFactory.getLogger(ChannelTls.class)).detachAppender(logs);
    nodes.forEach(Node::close);
  }

  @Test
  void aDataPlaneFollowsOverMutualTlsAndAnotherGroupsCertificateGets403() throws Exception {
    startControlPlane(ca.server("cp", "127.0.0.1", "localhost"));

    Node dp = startDataPlane("dp", ca.client("default"), "https://127.0.0.1:" + confPort);
    await(() -> "control_plane".equals(config(dp).get("source")), "the DP to follow the CP");
    assertThat(controlPlane(dp).get("state")).isEqualTo("connected");

    Node other = startDataPlane("dp-other", ca.client("payments"), "https://localhost:" + confPort);
    await(() -> controlPlane(other).containsKey("last_error"), "the other group's DP to fail");
    assertThat(String.valueOf(controlPlane(other).get("last_error")))
        .contains("answered 403")
        .contains("gateway group 'payments'")
        .contains("serves gateway group 'default'");
    assertThat(config(other).get("source")).isEqualTo("none");
    assertThat(logs.list)
        .filteredOn(event -> event.getLevel() == Level.WARN)
        .extracting(ILoggingEvent::getFormattedMessage)
        .containsExactly(
            "deployment.certs.cert names gateway group 'payments' (subject CN) but this node"
                + " serves 'default': its control plane will answer 403");

    // The same answer to any client with that certificate, as APISIX's error body.
    Answer answer = get(clientTls(ca.client("payments"), ca), "127.0.0.1");
    assertThat(answer.status()).isEqualTo(403);
    assertThat(answer.body())
        .startsWith("{\"error_msg\":")
        .contains("'payments'")
        .contains("'default'")
        .doesNotContain("PRIVATE");
  }

  @Test
  void withoutAClientCertificateOfTheCaThereIsNoHandshakeAndNoSnapshot() throws Exception {
    startControlPlane(ca.server("cp", "127.0.0.1"));
    Path caFile = ca.writeCertificate(dir.resolve("client"), "ca");

    ChannelTls anonymous =
        ChannelTls.client(
            Optional.empty(), Optional.empty(), Optional.of(new PemFile("ca", caFile)));
    assertThatThrownBy(() -> get(anonymous, "127.0.0.1")).hasStackTraceContaining("SSL");

    Ca stranger = GeneratedCertificates.ca("stranger-ca");
    assertThatThrownBy(() -> get(clientTls(stranger.client("default"), ca), "127.0.0.1"))
        .hasStackTraceContaining("SSL");

    // Plain HTTP on the TLS port gets no snapshot either.
    assertThatThrownBy(
            () ->
                HttpClient.create(ConnectionProvider.newConnection())
                    .get()
                    .uri("http://127.0.0.1:" + confPort + "/ballast/v2/export")
                    .responseSingle((response, body) -> body.asString().defaultIfEmpty(""))
                    .block(DEADLINE))
        .isNotNull();
  }

  @Test
  void replacingTheClientCaWithdrawsAccessFromDataPlanesAlreadyConnected() throws Exception {
    startControlPlane(ca.server("cp", "127.0.0.1"));
    Node dp = startDataPlane("dp", ca.client("default"), "https://127.0.0.1:" + confPort);
    await(() -> "control_plane".equals(config(dp).get("source")), "the DP to follow the CP");

    // The DP's connection is kept alive across long polls: the CA's replacement applies to its
    // next request, which a new route brings at once instead of after the 30 s poll.
    GeneratedCertificates.ca("next-ca").writeCertificate(dir.resolve("cp"), "ca");
    Thread.sleep(1_500); // the files are polled every second
    putRoute("after-rotation");
    await(
        () ->
            String.valueOf(controlPlane(dp).get("last_error"))
                .contains("answered 403: the client certificate no longer chains"),
        "the DP to be refused");
    assertThat(controlPlane(dp).get("state")).isEqualTo("disconnected");
  }

  @Test
  void aDataPlaneRefusesAControlPlaneCertificateForAnotherHostName() throws Exception {
    startControlPlane(ca.server("cp", "cp.ballast.invalid"));

    Node dp = startDataPlane("dp", ca.client("default"), "https://127.0.0.1:" + confPort);
    await(() -> controlPlane(dp).containsKey("last_error"), "the DP to refuse the CP");
    assertThat(String.valueOf(controlPlane(dp).get("last_error")))
        .contains("No subject alternative names matching IP address 127.0.0.1");
    assertThat(config(dp).get("source")).isEqualTo("none");
  }

  @Test
  void rotatedFilesAreServedWithoutARestart() throws Exception {
    startControlPlane(ca.server("cp-before", "127.0.0.1"));
    Node dp = startDataPlane("dp", ca.client("default"), "https://127.0.0.1:" + confPort);
    await(() -> "control_plane".equals(config(dp).get("source")), "the DP to follow the CP");
    assertThat(servedSubject()).isEqualTo("CN=cp-before");

    // Replaced in place, as a certificate manager renews them; the node polls every second.
    ca.server("cp-after", "127.0.0.1").write(dir.resolve("cp"), "server");
    await(() -> "CN=cp-after".equals(servedSubject()), "the renewed certificate to be served");

    // A broken renewal keeps the last good pair and says so once, naming the file.
    Files.writeString(dir.resolve("cp/server.pem"), "not a certificate");
    String brokenFile =
        "deployment.role_control_plane.conf_server.cert: "
            + dir.resolve("cp/server.pem")
            + ": not a PEM";
    await(
        () ->
            logs.list.stream()
                .anyMatch(
                    event ->
                        event.getLevel() == Level.WARN
                            && event.getFormattedMessage().contains(brokenFile)),
        "a WARN naming the broken file");
    assertThat(servedSubject()).isEqualTo("CN=cp-after");
  }

  @Test
  void aMissingFileIsOneConfigurationErrorNamingTheKey() throws Exception {
    ca.server("cp", "127.0.0.1").write(dir.resolve("cp"), "server");
    confPort = freePort();

    assertThatThrownBy(() -> startNode("cp", controlPlaneYaml(tlsKeys())))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            dir.resolve("cp/config.yaml")
                + ": deployment.role_control_plane.conf_server.client_ca_cert: cannot read "
                + dir.resolve("cp/ca.pem"));
  }

  @Test
  void aPlainConfServerBeyondLoopbackLogsOneWarn() throws Exception {
    confPort = freePort();
    startNode("cp-plain", controlPlaneYaml("listen: 0.0.0.0:" + confPort));

    assertThat(logs.list)
        .filteredOn(event -> event.getLevel() == Level.WARN)
        .singleElement()
        .satisfies(
            event ->
                assertThat(event.getFormattedMessage())
                    .contains(
                        "deployment.role_control_plane.conf_server.listen 0.0.0.0:" + confPort)
                    .contains("plain HTTP on a non-loopback address"));
  }

  @Test
  void aPlainConfServerOnLoopbackLogsNoWarn() throws Exception {
    confPort = freePort();
    startNode("cp-plain", controlPlaneYaml("listen: 127.0.0.1:" + confPort));

    assertThat(logs.list).noneMatch(event -> event.getLevel() == Level.WARN);
  }

  @Test
  void aBrokenCertificateAtStartIsOneConfigurationErrorNamingTheKeyAndFile() throws Exception {
    ca.server("cp", "127.0.0.1").write(dir.resolve("cp"), "server");
    ca.writeCertificate(dir.resolve("cp"), "ca");
    Files.writeString(dir.resolve("cp/server.pem"), "not a certificate");
    confPort = freePort();

    assertThatThrownBy(() -> startNode("cp", controlPlaneYaml(tlsKeys())))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(dir.resolve("cp/config.yaml") + ": ")
        .hasMessageContaining("deployment.role_control_plane.conf_server.cert: ")
        .hasMessageContaining(dir.resolve("cp/server.pem").toString())
        .hasMessageContaining("not a PEM certificate chain");
  }

  private void startControlPlane(GeneratedCertificates.Issued certificate) throws IOException {
    certificate.write(dir.resolve("cp"), "server");
    ca.writeCertificate(dir.resolve("cp"), "ca");
    confPort = freePort();
    startNode("cp", controlPlaneYaml(tlsKeys()));
  }

  /** Relative paths: the node reads them from its file's folder. */
  private String tlsKeys() {
    return "listen: 127.0.0.1:%d\n      cert: server.pem\n      cert_key: server.key\n"
            .formatted(confPort)
        + "      client_ca_cert: ca.pem";
  }

  private String controlPlaneYaml(String confServerKeys) throws IOException {
    return """
        deployment:
          role: control_plane
          admin:
            admin_key:
              - name: admin
                key: %s
                role: admin
            admin_listen: {ip: 127.0.0.1, port: %d}
          role_control_plane:
            conf_server:
              %s
        apisix:
          status: {ip: 127.0.0.1, port: %d}
          data_encryption: {keyring: [control-plane-channel-test-keyring]}
        """
        .formatted(ADMIN_KEY, adminPort = freePort(), confServerKeys, freePort());
  }

  private Node startDataPlane(String name, GeneratedCertificates.Issued certificate, String host)
      throws IOException {
    certificate.write(dir.resolve(name), "dp");
    ca.writeCertificate(dir.resolve(name), "ca");
    String yaml =
        """
        deployment:
          role: data_plane
          role_data_plane:
            config_provider: control_plane
            control_plane:
              host: [%s]
          certs:
            cert: dp.pem
            cert_key: dp.key
            trusted_ca_cert: ca.pem
        apisix:
          node_listen: [{ip: 127.0.0.1, port: %d}]
          status: {ip: 127.0.0.1, port: %d}
        """
            .formatted(host, freePort(), freePort());
    return startNode(name, yaml);
  }

  private Node startNode(String name, String yaml) throws IOException {
    Path folder = Files.createDirectories(dir.resolve(name));
    Path file =
        Files.writeString(
            folder.resolve("config.yaml"),
            yaml + "ballast:\n  data_dir: " + folder.resolve("data") + "\n");
    ConfigNode root = ConfigLoader.load(file);
    Node node = Node.start(NodeConfig.parse(root, "test"), root);
    nodes.add(node);
    return node;
  }

  private ChannelTls clientTls(GeneratedCertificates.Issued certificate, Ca trusted) {
    Path folder = dir.resolve("client-" + System.nanoTime());
    Path cert = certificate.write(folder, "client");
    return ChannelTls.client(
        Optional.of(new PemFile("cert", cert)),
        Optional.of(new PemFile("cert_key", folder.resolve("client.key"))),
        Optional.of(new PemFile("ca", trusted.writeCertificate(folder, "ca"))));
  }

  private void putRoute(String id) {
    int status =
        HttpClient.create()
            .headers(headers -> headers.set("X-API-KEY", ADMIN_KEY))
            .put()
            .uri("http://127.0.0.1:" + adminPort + "/apisix/admin/routes/" + id)
            .send(
                ByteBufFlux.fromString(
                    Mono.just(
                        "{\"uri\":\"/"
                            + id
                            + "\",\"upstream\":{\"type\":\"roundrobin\","
                            + "\"nodes\":{\"127.0.0.1:1\":1}}}")))
            .response()
            .map(response -> response.status().code())
            .block(DEADLINE);
    assertThat(status).as("PUT route %s", id).isIn(200, 201);
  }

  private record Answer(int status, String body) {}

  private Answer get(ChannelTls tls, String host) {
    return HttpClient.create(ConnectionProvider.newConnection())
        .secure(spec -> spec.sslContext(tls.context()))
        .get()
        .uri("https://" + host + ":" + confPort + "/ballast/v2/export")
        .responseSingle(
            (response, body) ->
                body.asString()
                    .defaultIfEmpty("")
                    .map(text -> new Answer(response.status().code(), text)))
        .block(DEADLINE);
  }

  /** The subject of the conf server's certificate, seen by a new client (no resumed session). */
  private String servedSubject() {
    AtomicReference<String> subject = new AtomicReference<>("none");
    try {
      HttpClient.create(ConnectionProvider.newConnection())
          .secure(spec -> spec.sslContext(clientTls(ca.client("default"), ca).context()))
          .doOnConnected(
              connection -> {
                try {
                  subject.set(
                      ((X509Certificate)
                              connection
                                  .channel()
                                  .pipeline()
                                  .get(SslHandler.class)
                                  .engine()
                                  .getSession()
                                  .getPeerCertificates()[0])
                          .getSubjectX500Principal()
                          .getName());
                } catch (SSLPeerUnverifiedException e) {
                  subject.set(e.toString());
                }
              })
          .get()
          .uri("https://127.0.0.1:" + confPort + "/ballast/v2/export")
          .responseSingle((response, body) -> body.asString().defaultIfEmpty(""))
          .block(DEADLINE);
    } catch (RuntimeException e) {
      return e.toString();
    }
    return subject.get();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> config(Node node) {
    return (Map<String, Object>) node.status().get("config");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> controlPlane(Node node) {
    return (Map<String, Object>) node.status().get("control_plane");
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
