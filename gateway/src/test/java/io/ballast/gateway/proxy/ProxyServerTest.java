package io.ballast.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.gateway.route.RouteTable;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.netty.DisposableServer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

class ProxyServerTest {

  private static final int EIGHT_MIB = 8 * 1024 * 1024;

  private final List<TestUpstream> upstreams = new ArrayList<>();
  private final AtomicReference<RouteTable> table = new AtomicReference<>(RouteTable.empty());
  private ProxyServer proxy;
  private DisposableServer bound;
  private HttpClient http;

  @BeforeEach
  void startProxy() {
    proxy = new ProxyServer(table::get, ProxyOptions.defaults());
    bound = proxy.start("127.0.0.1", 0).block(Duration.ofSeconds(10));
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  }

  @AfterEach
  void stopAll() {
    proxy.dispose();
    upstreams.forEach(TestUpstream::close);
  }

  private TestUpstream upstream(String name) {
    TestUpstream upstream = new TestUpstream(name);
    upstreams.add(upstream);
    return upstream;
  }

  private static Resource route(String id, String json) {
    ObjectNode value = (ObjectNode) TestUpstream.JSON.readTree(json.replace('\'', '"'));
    value.put("id", id);
    return Resource.parse(ResourceType.ROUTES, id, value);
  }

  private void routes(Resource... routes) {
    table.set(RouteTable.compile(List.of(routes), Map.of(), Map.of()));
  }

  private static String nodes(TestUpstream upstream) {
    return "{'" + upstream.address() + "': 1}";
  }

  private URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + bound.port() + pathAndQuery);
  }

  private HttpResponse<String> get(String pathAndQuery) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(pathAndQuery)).build(), BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> response) {
    return TestUpstream.JSON.readTree(response.body());
  }

  @Test
  void eventLoopsBoundTheProxysThreadsAndStopEndsThem() throws Exception {
    TestUpstream up = upstream("one");
    routes(route("r1", "{'uri': '/*', 'upstream': {'nodes': " + nodes(up) + "}}"));
    Set<Thread> before = proxyThreads();
    ProxyServer twoLoops = new ProxyServer(table::get, ProxyOptions.defaults().withEventLoops(2));
    Set<Thread> started;
    try {
      DisposableServer server = twoLoops.start("127.0.0.1", 0).block(Duration.ofSeconds(10));
      // Separate clients, so the requests arrive on separate connections, spread over the loops.
      List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        answers.add(
            HttpClient.newHttpClient()
                .sendAsync(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + server.port() + "/x" + i))
                        .build(),
                    BodyHandlers.ofString()));
      }
      for (CompletableFuture<HttpResponse<String>> answer : answers) {
        assertThat(answer.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      }
      started = proxyThreads();
      started.removeAll(before);
      assertThat(started).hasSize(2);
    } finally {
      twoLoops.stop();
    }
    for (Thread thread : started) {
      thread.join(5_000); // the loop has terminated; its thread is about to exit
    }
    assertThat(started).noneMatch(Thread::isAlive);
  }

  /** Live threads of Reactor Netty's loops named after the proxy's {@code ballast-proxy}. */
  private static Set<Thread> proxyThreads() {
    Set<Thread> threads = new HashSet<>();
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      if (thread.getName().startsWith("ballast-proxy") && thread.isAlive()) {
        threads.add(thread);
      }
    }
    return threads;
  }

  @Test
  void getIsForwardedWithPathQueryAndForwardedHeaders() throws Exception {
    TestUpstream up = upstream("one");
    routes(route("r1", "{'uri': '/api/*', 'upstream': {'nodes': " + nodes(up) + "}}"));

    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(uri("/api/items?x=1&y=a%20b"))
                .header("X-Forwarded-For", "10.0.0.7")
                .header("X-Custom", "kept")
                .build(),
            BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("X-Upstream")).contains("one");
    JsonNode echo = json(response);
    assertThat(echo.get("method").asString()).isEqualTo("GET");
    assertThat(echo.get("uri").asString()).isEqualTo("/api/items?x=1&y=a%20b");
    JsonNode headers = echo.get("headers");
    assertThat(headers.get("x-custom").asString()).isEqualTo("kept");
    assertThat(headers.get("host").asString()).isEqualTo("127.0.0.1:" + bound.port());
    assertThat(headers.get("x-forwarded-for").asString()).isEqualTo("10.0.0.7, 127.0.0.1");
    assertThat(headers.get("x-forwarded-proto").asString()).isEqualTo("http");
    assertThat(headers.get("x-forwarded-host").asString()).isEqualTo("127.0.0.1");
    assertThat(headers.get("x-forwarded-port").asString())
        .isEqualTo(Integer.toString(bound.port()));
    assertThat(headers.has("user-agent")).isTrue();
  }

  @Test
  void varsAndRemoteAddrsSeeTheNettyRequest() throws Exception {
    TestUpstream matched = upstream("matched");
    TestUpstream fallback = upstream("fallback");
    routes(
        route(
            "vars",
            "{'uri': '/v/:id', 'remote_addrs': ['127.0.0.0/8'], 'vars': [['arg_q', '==', 'a b'],"
                + " ['cookie_s', '==', 'x'], ['http_x_api_key', '~~', '^k']],"
                + " 'upstream': {'nodes': "
                + nodes(matched)
                + "}}"),
        route(
            "other-peer",
            "{'uri': '/p', 'remote_addr': '10.0.0.1', 'upstream': {'nodes': "
                + nodes(matched)
                + "}}"),
        route("fallback", "{'uri': '/*', 'upstream': {'nodes': " + nodes(fallback) + "}}"));

    HttpResponse<String> hit =
        http.send(
            HttpRequest.newBuilder(uri("/v/7?q=a+b&r=1"))
                .header("Cookie", "t=1; s=x")
                .header("X-Api-Key", "k123")
                .build(),
            BodyHandlers.ofString());
    HttpResponse<String> missCookie =
        http.send(
            HttpRequest.newBuilder(uri("/v/7?q=a%20b")).header("X-Api-Key", "k123").build(),
            BodyHandlers.ofString());
    HttpResponse<String> spoofed =
        http.send(
            HttpRequest.newBuilder(uri("/p")).header("X-Forwarded-For", "10.0.0.1").build(),
            BodyHandlers.ofString());

    assertThat(hit.headers().firstValue("X-Upstream")).contains("matched");
    assertThat(missCookie.headers().firstValue("X-Upstream")).contains("fallback");
    assertThat(spoofed.headers().firstValue("X-Upstream")).contains("fallback");
  }

  @Test
  void hopByHopHeadersAreDroppedBothWays() throws Exception {
    TestUpstream up = upstream("one");
    routes(route("r1", "{'uri': '/hop', 'upstream': {'nodes': " + nodes(up) + "}}"));

    // java.net.http refuses to send Connection, so speak HTTP/1.1 on a socket.
    String raw =
        rawExchange(
            "GET /hop HTTP/1.1\r\n"
                + "Host: gateway.test\r\n"
                + "Connection: close, X-Client-Hop\r\n"
                + "X-Client-Hop: secret\r\n"
                + "Keep-Alive: timeout=5\r\n"
                + "Proxy-Connection: keep-alive\r\n"
                + "TE: trailers\r\n"
                + "Trailer: X-Whatever\r\n"
                + "Upgrade: websocket\r\n"
                + "X-End-To-End: yes\r\n"
                + "\r\n");

    String head = raw.substring(0, raw.indexOf("\r\n\r\n")).toLowerCase();
    assertThat(head).startsWith("http/1.1 200");
    assertThat(head).contains("x-upstream: one");
    assertThat(head).doesNotContain("x-upstream-hop").doesNotContain("keep-alive: timeout");
    JsonNode headers = TestUpstream.JSON.readTree(raw.substring(raw.indexOf('{'))).get("headers");
    assertThat(headers.get("x-end-to-end").asString()).isEqualTo("yes");
    assertThat(headers.get("host").asString()).isEqualTo("gateway.test");
    for (String hop :
        List.of(
            "x-client-hop",
            "keep-alive",
            "proxy-connection",
            "te",
            "trailer",
            "upgrade",
            "transfer-encoding")) {
      assertThat(headers.has(hop)).as(hop).isFalse();
    }
    assertThat(headers.path("connection").asString("")).doesNotContain("X-Client-Hop");
  }

  private String rawExchange(String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", bound.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void postBodyIsStreamedBothWays() throws Exception {
    TestUpstream up = upstream("one");
    routes(route("r1", "{'uri': '/echo', 'upstream': {'nodes': " + nodes(up) + "}}"));

    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(uri("/echo?q=1"))
                .POST(BodyPublishers.ofString("hello upstream"))
                .build(),
            BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("hello upstream");
    assertThat(response.headers().firstValue("x-echo-method")).contains("POST");
    assertThat(response.headers().firstValue("x-echo-uri")).contains("/echo?q=1");

    HttpResponse<String> continued =
        http.send(
            HttpRequest.newBuilder(uri("/echo"))
                .expectContinue(true)
                .POST(BodyPublishers.ofString("after 100-continue"))
                .build(),
            BodyHandlers.ofString());
    assertThat(continued.statusCode()).isEqualTo(200);
    assertThat(continued.body()).isEqualTo("after 100-continue");
  }

  @Test
  void eightMebibytesUpAndDownKeepTheirSha256() throws Exception {
    TestUpstream up = upstream("one");
    routes(route("r1", "{'uri': '/*', 'upstream': {'nodes': " + nodes(up) + "}}"));
    byte[] payload = new byte[EIGHT_MIB];
    for (int i = 0; i < payload.length; i++) {
      payload[i] = TestUpstream.pattern(i);
    }
    String expected = TestUpstream.hex(TestUpstream.sha256().digest(payload));

    HttpResponse<String> upload =
        http.send(
            HttpRequest.newBuilder(uri("/sha256"))
                .POST(BodyPublishers.ofByteArray(payload))
                .build(),
            BodyHandlers.ofString());
    assertThat(upload.statusCode()).isEqualTo(200);
    assertThat(upload.body()).isEqualTo(expected);

    // Without a length the client sends chunks; the proxy re-frames them for the upstream.
    HttpResponse<String> chunkedUpload =
        http.send(
            HttpRequest.newBuilder(uri("/sha256"))
                .POST(BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(payload)))
                .build(),
            BodyHandlers.ofString());
    assertThat(chunkedUpload.statusCode()).isEqualTo(200);
    assertThat(chunkedUpload.body()).isEqualTo(expected);

    HttpResponse<byte[]> download =
        http.send(
            HttpRequest.newBuilder(uri("/download?bytes=" + EIGHT_MIB)).build(),
            BodyHandlers.ofByteArray());
    assertThat(download.statusCode()).isEqualTo(200);
    assertThat(TestUpstream.hex(TestUpstream.sha256().digest(download.body()))).isEqualTo(expected);

    HttpResponse<byte[]> echoed =
        http.send(
            HttpRequest.newBuilder(uri("/echo")).POST(BodyPublishers.ofByteArray(payload)).build(),
            BodyHandlers.ofByteArray());
    assertThat(echoed.statusCode()).isEqualTo(200);
    assertThat(TestUpstream.hex(TestUpstream.sha256().digest(echoed.body()))).isEqualTo(expected);
  }

  @Test
  void passHostNodeAndRewrite() throws Exception {
    TestUpstream up = upstream("one");
    routes(
        route(
            "node",
            "{'uri': '/node', 'upstream': {'pass_host': 'node', 'nodes': " + nodes(up) + "}}"),
        route(
            "rewrite",
            "{'uri': '/rewrite', 'upstream': {'pass_host': 'rewrite',"
                + " 'upstream_host': 'backend.internal', 'nodes': "
                + nodes(up)
                + "}}"));

    assertThat(json(get("/node")).get("headers").get("host").asString()).isEqualTo(up.address());
    assertThat(json(get("/rewrite")).get("headers").get("host").asString())
        .isEqualTo("backend.internal");
  }

  @Test
  void headAnswersHeadersWithoutBody() throws Exception {
    TestUpstream up = upstream("one");
    routes(route("r1", "{'uri': '/download', 'upstream': {'nodes': " + nodes(up) + "}}"));

    HttpResponse<String> head =
        http.send(
            HttpRequest.newBuilder(uri("/download?bytes=100"))
                .method("HEAD", BodyPublishers.noBody())
                .build(),
            BodyHandlers.ofString());

    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValue("Content-Length")).contains("100");
    assertThat(head.body()).isEmpty();
    // The connection stays usable after a body-less response.
    assertThat(get("/download?bytes=10").body()).hasSize(10);
  }

  @Test
  void everyRequestLogsOneAccessLine() throws Exception {
    TestUpstream up = upstream("one");
    routes(route("r1", "{'uri': '/logged', 'upstream': {'nodes': " + nodes(up) + "}}"));
    ch.qos.logback.classic.Logger access =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("ballast.access");
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    access.addAppender(lines);
    try {
      get("/logged?token=secret");
      get("/missing");
      // The line is written when the exchange completes, which may be just after the client
      // has read the response.
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (lines.list.size() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
    } finally {
      access.detachAppender(lines);
    }

    List<String> messages =
        lines.list.stream()
            .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
            .toList();
    assertThat(messages).hasSize(2);
    assertThat(messages.get(0))
        .startsWith("GET /logged 200 route=r1 upstream=" + up.address() + " ")
        .endsWith("ms")
        .doesNotContain("secret");
    assertThat(messages.get(1)).startsWith("GET /missing 404 route=- upstream=- ");
  }

  @Test
  void noRouteIs404Json() throws Exception {
    HttpResponse<String> response = get("/nowhere");

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.headers().firstValue("Content-Type")).contains("application/json");
    assertThat(response.body()).isEqualTo("{\"error_msg\":\"404 Route Not Found\"}");
  }

  @Test
  void routeWithoutUpstreamIs503Json() throws Exception {
    routes(route("lonely", "{'uri': '/lonely', 'upstream_id': 'missing'}"));
    HttpResponse<String> response = get("/lonely");

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.headers().firstValue("Content-Type")).contains("application/json");
    assertThat(response.body()).isEqualTo("{\"error_msg\":\"no upstream for route 'lonely'\"}");
  }

  @Test
  void closedUpstreamPortIs502Json() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    routes(
        route(
            "r1", "{'uri': '/down', 'upstream': {'nodes': {'127.0.0.1:" + closedPort + "': 1}}}"));

    HttpResponse<String> response = get("/down");

    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(response.headers().firstValue("Content-Type")).contains("application/json");
    assertThat(response.body()).isEqualTo("{\"error_msg\":\"502 Bad Gateway\"}");
  }

  @Test
  void slowUpstreamIs504JsonAfterReadTimeout() throws Exception {
    TestUpstream up = upstream("slow");
    routes(
        route(
            "r1",
            "{'uri': '/delay', 'upstream': {'timeout': {'connect': 5, 'send': 5,"
                + " 'read': 1}, 'nodes': "
                + nodes(up)
                + "}}"));

    HttpResponse<String> response = get("/delay?ms=3000");

    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(response.headers().firstValue("Content-Type")).contains("application/json");
    assertThat(response.body()).isEqualTo("{\"error_msg\":\"504 Gateway Timeout\"}");
  }

  @Test
  void weightsThreeToOneSplitFourHundredRequests() throws Exception {
    TestUpstream heavy = upstream("heavy");
    TestUpstream light = upstream("light");
    routes(
        route(
            "r1",
            "{'uri': '/w', 'upstream': {'nodes': {'"
                + heavy.address()
                + "': 3, '"
                + light.address()
                + "': 1}}}"));

    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < 400; i++) {
      HttpResponse<String> response = get("/w");
      assertThat(response.statusCode()).isEqualTo(200);
      seen.merge(json(response).get("name").asString(), 1, Integer::sum);
    }

    assertThat(seen).isEqualTo(Map.of("heavy", 300, "light", 100));
    assertThat(heavy.requests.get()).isEqualTo(300);
    assertThat(light.requests.get()).isEqualTo(100);
  }

  @Test
  void swappingTheTableFailsNoRequestInFlight() throws Exception {
    TestUpstream before = upstream("before");
    TestUpstream after = upstream("after");
    routes(route("r1", "{'uri': '/delay', 'upstream': {'nodes': " + nodes(before) + "}}"));

    List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      inFlight.add(
          http.sendAsync(
              HttpRequest.newBuilder(uri("/delay?ms=300")).build(), BodyHandlers.ofString()));
    }
    // Swap only once some requests are inside the old upstream, so they span the swap.
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (before.requests.get() < 20 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    routes(route("r1", "{'uri': '/delay', 'upstream': {'nodes': " + nodes(after) + "}}"));
    int startedBeforeSwap = before.requests.get();

    Map<String, Integer> answeredBy = new HashMap<>();
    for (CompletableFuture<HttpResponse<String>> future : inFlight) {
      HttpResponse<String> response = future.get();
      assertThat(response.statusCode()).isEqualTo(200);
      answeredBy.merge(response.body(), 1, Integer::sum);
    }
    assertThat(startedBeforeSwap).isGreaterThanOrEqualTo(20);
    assertThat(answeredBy.get("before")).isGreaterThanOrEqualTo(startedBeforeSwap);
    assertThat(answeredBy.getOrDefault("before", 0) + answeredBy.getOrDefault("after", 0))
        .isEqualTo(200);
    assertThat(get("/delay?ms=0").body()).isEqualTo("after");
  }
}
