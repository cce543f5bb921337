package io.ballast.gateway.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ballast.gateway.tls.ChannelTls.PemFile;
import io.ballast.gateway.tls.GeneratedCertificates.Ca;
import io.netty.handler.ssl.SslHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.ConnectionProvider;

/**
 * The channel's TLS over real Reactor Netty servers and clients: mutual authentication, refusals
 * (no client certificate, another CA's, a server certificate for another host name) and files
 * re-read without a restart.
 */
class ChannelTlsTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @TempDir Path dir;

  private final Ca ca = GeneratedCertificates.ca("channel-ca");
  private DisposableServer server;
  private ChannelTls serverTls;
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeEach
  void captureLogs() {
    logs.start();
    ((Logger) LoggerFactory.getLogger(ChannelTls.class)).addAppender(logs);
  }

  @AfterEach
  void stop() {
    ((Logger) LoggerFactory.getLogger(ChannelTls.class)).detachAppender(logs);
    if (server != null) {
      server.disposeNow();
    }
    if (serverTls != null) {
      serverTls.close();
    }
  }

  @Test
  void mutualTlsAnswersAClientWithACertificateOfTheCa() {
    startServer(ca.server("cp", "127.0.0.1", "localhost"), true);

    assertThat(get(client(ca.client("default"), ca), "127.0.0.1")).isEqualTo("CN=default");
    assertThat(get(client(ca.client("default"), ca), "localhost")).isEqualTo("CN=default");
  }

  @Test
  void aClientWithoutCertificateCompletesNoHandshake() {
    startServer(ca.server("cp", "127.0.0.1"), true);
    HttpClient anonymous =
        https(
            ChannelTls.client(
                Optional.empty(), Optional.empty(), Optional.of(caFile(ca, "trusted"))));

    assertThatThrownBy(() -> get(anonymous, "127.0.0.1")).hasStackTraceContaining("SSL");
  }

  @Test
  void aClientCertificateOfAnotherCaCompletesNoHandshake() {
    startServer(ca.server("cp", "127.0.0.1"), true);
    Ca other = GeneratedCertificates.ca("other-ca");
    // Trusts the right server CA, but presents a certificate the server's CA did not sign.
    ChannelTls tls =
        ChannelTls.client(
            Optional.of(new PemFile("cert", other.client("default").write(dir, "other"))),
            Optional.of(new PemFile("cert_key", dir.resolve("other.key"))),
            Optional.of(caFile(ca, "trusted")));

    assertThatThrownBy(() -> get(https(tls), "127.0.0.1")).hasStackTraceContaining("SSL");
  }

  @Test
  void theClientRefusesAServerCertificateForAnotherHostName() {
    startServer(ca.server("cp", "cp.ballast.invalid"), true);

    assertThatThrownBy(() -> get(client(ca.client("default"), ca), "127.0.0.1"))
        .hasStackTraceContaining("No subject alternative names matching IP address 127.0.0.1");
  }

  @Test
  void aServerWithoutClientCaAcceptsAnyClientAndSeesNoCertificate() {
    startServer(ca.server("cp", "127.0.0.1"), false);
    HttpClient anonymous =
        https(
            ChannelTls.client(
                Optional.empty(), Optional.empty(), Optional.of(caFile(ca, "trusted"))));

    assertThat(get(anonymous, "127.0.0.1")).isEqualTo("no client certificate");
  }

  @Test
  void rotatedServerFilesAreServedWithoutARestartAndABadFileKeepsTheLastGoodOne() throws Exception {
    startServer(ca.server("cp-1", "127.0.0.1"), true);
    assertThat(servedCommonName()).isEqualTo("CN=cp-1");

    ca.server("cp-2", "127.0.0.1").write(dir, "server");
    assertThat(serverTls.refresh()).isTrue();
    assertThat(servedCommonName()).isEqualTo("CN=cp-2");
    assertThat(serverTls.refresh()).as("unchanged files").isFalse();

    // A key that is not the certificate's: the last good pair stays, one WARN names the file.
    ca.server("cp-3", "127.0.0.1").write(dir, "unrelated");
    Files.copy(
        dir.resolve("unrelated.key"),
        dir.resolve("server.key"),
        StandardCopyOption.REPLACE_EXISTING);
    assertThat(serverTls.refresh()).isFalse();
    assertThat(serverTls.refresh()).isFalse();
    assertThat(servedCommonName()).isEqualTo("CN=cp-2");
    assertThat(logs.list)
        .filteredOn(event -> event.getLevel() == Level.WARN)
        .singleElement()
        .satisfies(
            event ->
                assertThat(event.getFormattedMessage())
                    .contains("cert_key: " + dir.resolve("server.key") + ": does not match")
                    .contains("does not match")
                    .doesNotContain("PRIVATE KEY"));
  }

  @Test
  void aRotatedClientCertificateIsPresentedWithoutARestart() {
    startServer(ca.server("cp", "127.0.0.1"), true);
    Path cert = ca.client("group-a").write(dir, "dp");
    ChannelTls tls =
        ChannelTls.client(
            Optional.of(new PemFile("cert", cert)),
            Optional.of(new PemFile("cert_key", dir.resolve("dp.key"))),
            Optional.of(caFile(ca, "trusted")));
    HttpClient client = https(tls);
    assertThat(get(client, "127.0.0.1")).isEqualTo("CN=group-a");

    ca.client("group-b").write(dir, "dp");
    assertThat(tls.refresh()).isTrue();
    assertThat(get(client, "127.0.0.1")).isEqualTo("CN=group-b");
  }

  @Test
  void aBrokenFileAtStartIsAnErrorNamingTheKeyAndTheFile() throws Exception {
    Path cert = ca.server("cp", "127.0.0.1").write(dir, "server");
    Files.writeString(cert, "not a certificate");

    assertThatThrownBy(
            () ->
                ChannelTls.server(
                    new PemFile("deployment.role_control_plane.conf_server.cert", cert),
                    new PemFile("cert_key", dir.resolve("server.key")),
                    Optional.empty()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("deployment.role_control_plane.conf_server.cert: " + cert);
  }

  private void startServer(GeneratedCertificates.Issued certificate, boolean clientCa) {
    Path cert = certificate.write(dir, "server");
    serverTls =
        ChannelTls.server(
            new PemFile("cert", cert),
            new PemFile("cert_key", dir.resolve("server.key")),
            clientCa ? Optional.of(caFile(ca, "client-ca")) : Optional.empty());
    server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .secure(spec -> spec.sslContext(serverTls.context()))
            .handle(
                (request, response) -> {
                  AtomicReference<String> peer = new AtomicReference<>("no client certificate");
                  request.withConnection(
                      connection -> {
                        SslHandler ssl = connection.channel().pipeline().get(SslHandler.class);
                        try {
                          peer.set(
                              ((X509Certificate) ssl.engine().getSession().getPeerCertificates()[0])
                                  .getSubjectX500Principal()
                                  .getName());
                        } catch (SSLPeerUnverifiedException e) {
                          // no client certificate: the answer says so
                        }
                      });
                  return response.sendString(Mono.just(peer.get()));
                })
            .bindNow(TIMEOUT);
  }

  private PemFile caFile(Ca authority, String name) {
    return new PemFile("trusted_ca_cert", authority.writeCertificate(dir, name));
  }

  private HttpClient client(GeneratedCertificates.Issued certificate, Ca trusted) {
    String name = "client-" + System.nanoTime();
    Path cert = certificate.write(dir, name);
    return https(
        ChannelTls.client(
            Optional.of(new PemFile("cert", cert)),
            Optional.of(new PemFile("cert_key", dir.resolve(name + ".key"))),
            Optional.of(caFile(trusted, name + "-ca"))));
  }

  private static HttpClient https(ChannelTls tls) {
    return HttpClient.create(ConnectionProvider.newConnection())
        .secure(spec -> spec.sslContext(tls.context()));
  }

  private String get(HttpClient client, String host) {
    return client
        .get()
        .uri("https://" + host + ":" + server.port() + "/")
        .responseContent()
        .aggregate()
        .asString()
        .defaultIfEmpty("")
        .block(TIMEOUT);
  }

  /**
   * The subject of the certificate the server presents to a new client: a client of its own, so
   * that no TLS session is resumed with the certificate of an earlier handshake.
   */
  private String servedCommonName() {
    AtomicReference<X509Certificate> served = new AtomicReference<>();
    client(ca.client("default"), ca)
        .doOnConnected(
            connection -> {
              try {
                served.set(
                    (X509Certificate)
                        connection
                            .channel()
                            .pipeline()
                            .get(SslHandler.class)
                            .engine()
                            .getSession()
                            .getPeerCertificates()[0]);
              } catch (SSLPeerUnverifiedException e) {
                throw new IllegalStateException(e);
              }
            })
        .get()
        .uri("https://127.0.0.1:" + server.port() + "/")
        .responseContent()
        .aggregate()
        .asString()
        .defaultIfEmpty("")
        .block(TIMEOUT);
    return served.get().getSubjectX500Principal().getName();
  }
}
