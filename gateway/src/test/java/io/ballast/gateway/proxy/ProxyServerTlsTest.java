package io.ballast.gateway.proxy;

import static io.ballast.gateway.tls.TestCertificates.commonName;
import static io.ballast.gateway.tls.TestCertificates.handshake;
import static io.ballast.gateway.tls.TestCertificates.ssl;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.plugin.PluginRegistry;
import io.ballast.gateway.route.RouteTable;
import io.ballast.gateway.tls.HandshakeFailureLog;
import io.ballast.gateway.tls.TestCertificates;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.netty.DisposableServer;
import reactor.netty.http.Http2SslContextSpec;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.client.HttpClient;
import reactor.util.function.Tuple2;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

class ProxyServerTlsTest {

  private final List<TestUpstream> upstreams = new ArrayList<>();
  private final AtomicReference<RouteTable> table = new AtomicReference<>(RouteTable.empty());
  private final ProxyServer proxy = new ProxyServer(table::get, ProxyOptions.defaults());

  @AfterEach
  void stopAll() {
    proxy.dispose();
    upstreams.forEach(TestUpstream::close);
  }

  private InetSocketAddress listen(boolean http2, String fallbackSni) {
    DisposableServer bound =
        proxy.startTls("127.0.0.1", 0, http2, fallbackSni).block(Duration.ofSeconds(10));
    return new InetSocketAddress("127.0.0.1", bound.port());
  }

  private void configure(Resource... resources) {
    ResourceSet.Builder set = ResourceSet.builder();
    for (Resource resource : resources) {
      set.add(resource);
    }
    table.set(RouteTable.compile(set.build(), PluginRegistry.of(List.of()), table.get()));
  }

  private TestUpstream upstream(String name) {
    TestUpstream upstream = new TestUpstream(name);
    upstreams.add(upstream);
    return upstream;
  }

  private static Resource route(String id, String host, TestUpstream upstream) {
    ObjectNode value = TestUpstream.JSON.createObjectNode();
    value.put("id", id);
    value.put("uri", "/*");
    value.put("host", host);
    value.putObject("upstream").putObject("nodes").put(upstream.address(), 1);
    return Resource.parse(ResourceType.ROUTES, id, value);
  }

  @Test
  void eachSniGetsTheCertificateOfItsSsl() throws Exception {
    InetSocketAddress address = listen(true, null);
    configure(
        ssl("1", "a", "a.example.com"),
        ssl("2", "b", "b.example.com"),
        ssl("3", "wild", "*.wild.example.com"));

    assertThat(commonName(handshake(address, "a.example.com"))).isEqualTo("a.example.com");
    assertThat(commonName(handshake(address, "b.example.com"))).isEqualTo("b.example.com");
    assertThat(commonName(handshake(address, "x.wild.example.com")))
        .isEqualTo("*.wild.example.com");
  }

  @Test
  void anSslWithRsaAndEcdsaPairsServesWhatTheClientCanVerify() throws Exception {
    InetSocketAddress address = listen(true, null);
    Resource both =
        TestCertificates.withExtraPair(
            ssl("1", "a", "a.example.com"),
            TestCertificates.pem("a-ec.pem"),
            TestCertificates.pem("a-ec.key"));
    configure(both);

    assertThat(
            handshake(address, "a.example.com", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
                .getPublicKey()
                .getAlgorithm())
        .isEqualTo("EC");
    assertThat(
            handshake(address, "a.example.com", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
                .getPublicKey()
                .getAlgorithm())
        .isEqualTo("RSA");
  }

  @Test
  void aNameNoSslCoversFailsTheHandshake() {
    InetSocketAddress address = listen(true, "a.example.com");
    configure(ssl("1", "a", "a.example.com"));

    assertThatThrownBy(() -> handshake(address, "c.example.com")).isInstanceOf(SSLException.class);
  }

  @Test
  void aRefusedHandshakeIsOneInfoLineWithTheReason() {
    InetSocketAddress http11 = listen(false, null);
    InetSocketAddress http2 = listen(true, null);
    configure(ssl("1", "a", "a.example.com"));
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger(HandshakeFailureLog.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    try {
      for (InetSocketAddress address : List.of(http11, http2)) {
        assertThatThrownBy(() -> handshake(address, "c.example.com"))
            .isInstanceOf(SSLException.class);
        assertThatThrownBy(() -> handshake(address, null)).isInstanceOf(SSLException.class);
      }
    } finally {
      logger.detachAppender(lines);
    }

    // One line per connection, though Netty reports each refusal more than once.
    assertThat(lines.list)
        .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
        .hasSize(4)
        .allMatch(line -> line.startsWith("TLS with /127.0.0.1:"))
        .filteredOn(line -> line.endsWith(" failed: no ssl for SNI 'c.example.com'"))
        .hasSize(2);
    assertThat(lines.list)
        .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
        .filteredOn(
            line ->
                line.endsWith(" failed: client sent no SNI and apisix.ssl.fallback_sni is not set"))
        .hasSize(2);
    assertThat(lines.list)
        .allMatch(line -> line.getLevel() == ch.qos.logback.classic.Level.INFO)
        .allMatch(line -> line.getThrowableProxy() == null);
  }

  @Test
  void aClientWithoutSniGetsTheFallbackSnisCertificateOrNone() throws Exception {
    InetSocketAddress withFallback = listen(true, "b.example.com");
    InetSocketAddress without = listen(true, null);
    configure(ssl("1", "a", "a.example.com"), ssl("2", "b", "b.example.com"));

    assertThat(commonName(handshake(withFallback, null))).isEqualTo("b.example.com");
    assertThatThrownBy(() -> handshake(without, null)).isInstanceOf(SSLException.class);
  }

  @Test
  void theNextHandshakeAfterASwapUsesTheNewCertificate() throws Exception {
    InetSocketAddress address = listen(true, null);
    configure(ssl("1", "a", "shop.wild.example.com"));
    assertThat(commonName(handshake(address, "shop.wild.example.com"))).isEqualTo("a.example.com");

    configure(ssl("1", "wild", "shop.wild.example.com"));

    assertThat(commonName(handshake(address, "shop.wild.example.com")))
        .isEqualTo("*.wild.example.com");
  }

  @Test
  void http2ThroughAlpnIsRoutedByAuthorityToAPlainUpstream() throws Exception {
    InetSocketAddress address = listen(true, null);
    TestUpstream one = upstream("one");
    TestUpstream two = upstream("two");
    configure(
        ssl("1", "a", "a.example.com"),
        ssl("2", "b", "b.example.com"),
        route("r1", "a.example.com", one),
        route("r2", "b.example.com", two));

    Tuple2<HttpVersion, String> answer = get(address, "b.example.com", HttpProtocol.H2);

    assertThat(answer.getT1().text()).isEqualTo("HTTP/2.0");
    JsonNode echo = TestUpstream.JSON.readTree(answer.getT2());
    assertThat(echo.get("name").asString()).isEqualTo("two");
    JsonNode headers = echo.get("headers");
    assertThat(headers.get("host").asString()).isEqualTo("b.example.com");
    assertThat(headers.get("x-forwarded-proto").asString()).isEqualTo("https");
    assertThat(headers.get("x-forwarded-port").asString())
        .isEqualTo(Integer.toString(address.getPort()));
    assertThat(two.requests.get()).isEqualTo(1);
    assertThat(one.requests.get()).isZero();
  }

  @Test
  void withoutHttp2TheListenerSpeaksHttp11() throws Exception {
    InetSocketAddress address = listen(false, null);
    TestUpstream one = upstream("one");
    configure(ssl("1", "a", "a.example.com"), route("r1", "a.example.com", one));

    Tuple2<HttpVersion, String> answer =
        get(address, "a.example.com", HttpProtocol.H2, HttpProtocol.HTTP11);

    assertThat(answer.getT1()).isEqualTo(HttpVersion.HTTP_1_1);
    JsonNode headers = TestUpstream.JSON.readTree(answer.getT2()).get("headers");
    assertThat(headers.get("x-forwarded-proto").asString()).isEqualTo("https");
  }

  /** GET / with {@code host} as SNI and Host (:authority on h2), the test CA trusted. */
  private static Tuple2<HttpVersion, String> get(
      InetSocketAddress address, String host, HttpProtocol... protocols) throws SSLException {
    SslContext trustTestCa =
        Http2SslContextSpec.forClient()
            .configure(builder -> builder.trustManager(TestCertificates.caCertificate()))
            .sslContext();
    return HttpClient.create()
        .protocol(protocols)
        .remoteAddress(() -> address)
        .secure(
            spec ->
                spec.sslContext(trustTestCa)
                    .serverNames(new SNIHostName(host))
                    // The address is 127.0.0.1, not the name the certificate is for.
                    .handlerConfigurator(
                        handler -> {
                          SSLParameters parameters = handler.engine().getSSLParameters();
                          parameters.setEndpointIdentificationAlgorithm(null);
                          handler.engine().setSSLParameters(parameters);
                        }))
        .headers(headers -> headers.set("Host", host))
        .get()
        .uri("/")
        .responseSingle(
            (response, body) ->
                body.asString()
                    .map(text -> reactor.util.function.Tuples.of(response.version(), text)))
        .block(Duration.ofSeconds(10));
  }
}
