package io.ballast.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.gateway.http.RouteRequest;
import io.ballast.gateway.route.RouteTable;
import io.ballast.gateway.upstream.LeastConnections;
import io.ballast.gateway.upstream.Upstream;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import io.ballast.resource.UpstreamNode;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayOutputStream;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import javax.net.ssl.KeyManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.netty.DisposableServer;
import tools.jackson.databind.node.ObjectNode;

/** Balancing, retries, keepalive pools and TLS of upstreams, through the proxy to real servers. */
class UpstreamProxyTest {

  private final List<AutoCloseable> servers = new ArrayList<>();
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
  void stopAll() throws Exception {
    proxy.dispose();
    for (AutoCloseable server : servers) {
      server.close();
    }
  }

  private TestUpstream upstream(String name) {
    TestUpstream upstream = new TestUpstream(name);
    servers.add(upstream);
    return upstream;
  }

  /** A raw TCP server that hands every accepted socket to {@code behaviour}. */
  private RawServer raw(RawServer.Behaviour behaviour) throws IOException {
    RawServer server = new RawServer(behaviour);
    servers.add(server);
    return server;
  }

  private static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private void route(String uri, String upstreamJson) {
    ObjectNode value =
        (ObjectNode)
            TestUpstream.JSON.readTree(
                ("{'uri': '" + uri + "', 'upstream': " + upstreamJson + "}").replace('\'', '"'));
    value.put("id", "r1");
    table.set(
        RouteTable.compile(
            List.of(Resource.parse(ResourceType.ROUTES, "r1", value)), Map.of(), Map.of()));
  }

  private Upstream compiledUpstream(String path) {
    return table.get().match(RouteRequest.of("GET", null, path)).orElseThrow().upstream().get();
  }

  private URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + bound.port() + pathAndQuery);
  }

  private HttpResponse<String> get(String pathAndQuery) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(pathAndQuery)).build(), BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String pathAndQuery, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri(pathAndQuery)).POST(BodyPublishers.ofString(body)).build(),
        BodyHandlers.ofString());
  }

  private static String name(HttpResponse<String> response) {
    return TestUpstream.JSON.readTree(response.body()).get("name").asString();
  }

  /** Waits for a condition that follows from an event, not from elapsed time. */
  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  @Test
  void closedPortIsRetriedOnTheLiveNodeUnlessRetriesIsZero() throws Exception {
    TestUpstream live = upstream("live");
    String nodes = "{'127.0.0.1:" + closedPort() + "': 1, '" + live.address() + "': 1}";

    route("/r", "{'nodes': " + nodes + "}");
    for (int i = 0; i < 4; i++) {
      HttpResponse<String> response = get("/r");
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(name(response)).isEqualTo("live");
    }

    route("/r", "{'retries': 0, 'nodes': " + nodes + "}");
    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      statuses.add(get("/r").statusCode());
    }
    // Round robin alternates: one request meets the closed port and is not retried.
    assertThat(statuses).containsExactlyInAnyOrder(200, 502);
  }

  @Test
  void bodyIsSentToTheNextNodeWhenTheFirstCouldNotConnect() throws Exception {
    TestUpstream live = upstream("live");
    route("/echo", "{'nodes': {'127.0.0.1:" + closedPort() + "': 1, '" + live.address() + "': 1}}");

    for (int i = 0; i < 2; i++) {
      HttpResponse<String> response = post("/echo", "payload " + i);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("payload " + i);
    }
  }

  @Test
  void resetBeforeTheResponseIsRetriedWithoutBodyButNotWithABodyAlreadyRead() throws Exception {
    TestUpstream live = upstream("live");
    RawServer resets =
        raw(
            socket -> {
              InputStream in = socket.getInputStream();
              if (contentLength(readHead(in)) > 0) {
                // Take some body first, so the proxy has surely streamed part of it here.
                in.readNBytes(1024);
              }
              socket.setSoLinger(true, 0);
              socket.close();
            });
    route("/echo", "{'nodes': {'" + resets.address() + "': 1, '" + live.address() + "': 1}}");

    HttpResponse<String> get = get("/echo");
    assertThat(get.statusCode()).isEqualTo(200);
    assertThat(get.headers().firstValue("X-Upstream")).contains("live");
    assertThat(resets.accepted()).isEqualTo(1);

    // A freshly compiled upstream picks the resetting node first; the body was streamed to it.
    route("/echo", "{'nodes': {'" + resets.address() + "': 1, '" + live.address() + "': 1}}");
    int liveBefore = live.requests.get();
    HttpResponse<String> post = post("/echo", "x".repeat(256 * 1024));
    assertThat(post.statusCode()).isEqualTo(502);
    assertThat(resets.accepted()).isEqualTo(2);
    assertThat(live.requests.get()).isEqualTo(liveBefore);
  }

  @Test
  void noRetryOnceTheUpstreamSentItsStatus() throws Exception {
    TestUpstream live = upstream("live");
    RawServer truncates =
        raw(
            socket -> {
              readHead(socket.getInputStream());
              OutputStream out = socket.getOutputStream();
              out.write(
                  "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc"
                      .getBytes(StandardCharsets.US_ASCII));
              out.flush();
              socket.setSoLinger(true, 0);
              socket.close();
            });
    route("/t", "{'nodes': {'" + truncates.address() + "': 1, '" + live.address() + "': 1}}");

    try {
      HttpResponse<String> response = get("/t");
      // Whatever reached the client, it came from the first node only.
      assertThat(response.body()).isNotEqualTo("live");
    } catch (IOException expected) {
      // The proxy closed the client connection mid-response.
    }
    assertThat(truncates.accepted()).isEqualTo(1);
    assertThat(live.requests.get()).isZero();
  }

  @Test
  void lowerPriorityNodeServesWhenTheHigherOneFails() throws Exception {
    TestUpstream backup = upstream("backup");
    route(
        "/p",
        "{'nodes': [{'host': '127.0.0.1', 'port': "
            + closedPort()
            + ", 'weight': 1, 'priority': 1}, {'host': '127.0.0.1', 'port': "
            + backup.port()
            + ", 'weight': 1}]}");

    for (int i = 0; i < 3; i++) {
      HttpResponse<String> response = get("/p");
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(name(response)).isEqualTo("backup");
    }
  }

  @Test
  void leastConnCountsEndWhetherTheExchangeCompletesFailsOrIsCancelled() throws Exception {
    TestUpstream slow = upstream("slow");
    route("/delay", "{'type': 'least_conn', 'nodes': {'" + slow.address() + "': 1}}");
    LeastConnections balancer = (LeastConnections) compiledUpstream("/delay").balancers().get(0);
    UpstreamNode node = compiledUpstream("/delay").nodes().get(0);

    assertThat(get("/delay?ms=1").statusCode()).isEqualTo(200);
    // The client may see the response end a moment before the proxy's exchange does.
    await("the completed exchange released its node", () -> balancer.active(node) == 0);

    try (Socket client = new Socket("127.0.0.1", bound.port())) {
      client
          .getOutputStream()
          .write(
              "GET /delay?ms=60000 HTTP/1.1\r\nHost: x\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII));
      client.getOutputStream().flush();
      await("the upstream received the request", () -> slow.requests.get() == 2);
      assertThat(balancer.active(node)).isEqualTo(1);
    }
    await("the cancelled exchange released its node", () -> balancer.active(node) == 0);

    route("/down", "{'type': 'least_conn', 'nodes': {'127.0.0.1:" + closedPort() + "': 1}}");
    LeastConnections failing = (LeastConnections) compiledUpstream("/down").balancers().get(0);
    assertThat(get("/down").statusCode()).isEqualTo(502);
    UpstreamNode down = compiledUpstream("/down").nodes().get(0);
    await("the failed exchange released its node", () -> failing.active(down) == 0);
  }

  @Test
  void leastConnSendsTheNextRequestToTheIdleNode() throws Exception {
    TestUpstream busy = upstream("busy");
    TestUpstream idle = upstream("idle");
    route(
        "/delay",
        "{'type': 'least_conn', 'nodes': {'"
            + busy.address()
            + "': 1, '"
            + idle.address()
            + "': 1}}");

    var slowCall =
        http.sendAsync(
            HttpRequest.newBuilder(uri("/delay?ms=3000")).build(), BodyHandlers.ofString());
    await("one node has the slow request", () -> busy.requests.get() + idle.requests.get() == 1);
    TestUpstream first = busy.requests.get() == 1 ? busy : idle;
    TestUpstream other = first == busy ? idle : busy;

    for (int i = 0; i < 3; i++) {
      assertThat(get("/delay?ms=1").body()).isEqualTo(other.name);
    }
    assertThat(slowCall.get().body()).isEqualTo(first.name);
  }

  @Test
  void keepalivePoolRequestsRetiresAConnectionAfterItsLastRequest() throws Exception {
    TestUpstream limited = upstream("limited");
    route("/k", "{'keepalive_pool': {'requests': 2}, 'nodes': {'" + limited.address() + "': 1}}");
    for (int i = 0; i < 3; i++) {
      assertThat(get("/k").statusCode()).isEqualTo(200);
    }
    List<Integer> ports = limited.remotePorts;
    assertThat(ports.get(1)).isEqualTo(ports.get(0));
    assertThat(ports.get(2)).isNotEqualTo(ports.get(0));

    TestUpstream reused = upstream("reused");
    route("/k", "{'nodes': {'" + reused.address() + "': 1}}");
    for (int i = 0; i < 3; i++) {
      assertThat(get("/k").statusCode()).isEqualTo(200);
    }
    assertThat(reused.remotePorts).hasSize(3).containsOnly(reused.remotePorts.get(0));
  }

  @Test
  void httpsUpstreamWithASelfSignedCertificateIsReached(@TempDir Path dir) throws Exception {
    TestUpstream secure = new TestUpstream("secure", selfSignedTls(dir));
    servers.add(secure);
    route("/s", "{'scheme': 'https', 'nodes': {'" + secure.address() + "': 1}}");

    HttpResponse<String> response = get("/s");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(name(response)).isEqualTo("secure");
  }

  @Test
  void chashOnAHeaderKeepsAUserOnOneNode() throws Exception {
    List<TestUpstream> nodes = List.of(upstream("a"), upstream("b"), upstream("c"));
    route(
        "/h",
        "{'type': 'chash', 'hash_on': 'header', 'key': 'x-user', 'nodes': {'"
            + nodes.get(0).address()
            + "': 1, '"
            + nodes.get(1).address()
            + "': 1, '"
            + nodes.get(2).address()
            + "': 1}}");
    for (int user = 0; user < 10; user++) {
      String first = null;
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> response =
            http.send(
                HttpRequest.newBuilder(uri("/h")).header("X-User", "user" + user).build(),
                BodyHandlers.ofString());
        if (first == null) {
          first = name(response);
        }
        assertThat(name(response)).isEqualTo(first);
      }
    }
  }

  /** A server certificate made by the JDK's keytool: no BouncyCastle on the test classpath. */
  private static SslContext selfSignedTls(Path dir) throws Exception {
    Path store = dir.resolve("upstream.p12");
    String password = "changeit";
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "upstream",
                "-keyalg",
                "EC",
                "-dname",
                "CN=127.0.0.1",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                password)
            .redirectErrorStream(true)
            .start();
    String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(keytool.waitFor()).as("keytool: %s", output).isZero();
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keys.load(in, password.toCharArray());
    }
    KeyManagerFactory factory =
        KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    factory.init(keys, password.toCharArray());
    return SslContextBuilder.forServer(factory).build();
  }

  private static long contentLength(String head) {
    for (String line : head.split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) {
        return Long.parseLong(line.substring("content-length:".length()).trim());
      }
    }
    return 0;
  }

  /** Reads a request's head, up to and including the blank line. */
  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      head.write(b);
      byte[] bytes = head.toByteArray();
      int n = bytes.length;
      if (n >= 4
          && bytes[n - 4] == '\r'
          && bytes[n - 3] == '\n'
          && bytes[n - 2] == '\r'
          && bytes[n - 1] == '\n') {
        break;
      }
    }
    return head.toString(StandardCharsets.US_ASCII);
  }

  /** A blocking TCP server on 127.0.0.1 that misbehaves as told, one thread per connection. */
  static final class RawServer implements AutoCloseable {

    interface Behaviour {
      void serve(Socket socket) throws IOException;
    }

    private final ServerSocket socket;
    private final java.util.concurrent.atomic.AtomicInteger accepted =
        new java.util.concurrent.atomic.AtomicInteger();

    RawServer(Behaviour behaviour) throws IOException {
      this.socket = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
      Thread acceptor =
          new Thread(
              () -> {
                while (!socket.isClosed()) {
                  try {
                    Socket connection = socket.accept();
                    accepted.incrementAndGet();
                    Thread worker =
                        new Thread(
                            () -> {
                              try (connection) {
                                behaviour.serve(connection);
                              } catch (IOException ignored) {
                                // The proxy may close first; nothing to check here.
                              }
                            });
                    worker.setDaemon(true);
                    worker.start();
                  } catch (IOException closed) {
                    return;
                  }
                }
              },
              "raw-server");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    String address() {
      return "127.0.0.1:" + socket.getLocalPort();
    }

    int accepted() {
      return accepted.get();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
