package io.ballast.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.plugin.PluginRegistry;
import io.ballast.gateway.route.RouteTable;
import io.ballast.gateway.upstream.LeastConnections;
import io.ballast.gateway.upstream.Upstream;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import io.ballast.resource.UpstreamNode;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.WebsocketServerSpec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** WebSocket upgrades through the real proxy to a real Reactor Netty WebSocket upstream. */
class WebSocketProxyTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final int FRAGMENT = 64 * 1024;

  private final AtomicReference<RouteTable> table = new AtomicReference<>(RouteTable.empty());
  private ProxyServer proxy;
  private DisposableServer bound;
  private WsUpstream upstream;
  private TestUpstream plain;

  @BeforeEach
  void start() {
    upstream = new WsUpstream();
    plain = new TestUpstream("plain");
    proxy = new ProxyServer(table::get, ProxyOptions.defaults());
    bound = proxy.start("127.0.0.1", 0).block(TIMEOUT);
  }

  @AfterEach
  void stop() {
    proxy.dispose();
    upstream.close();
    plain.close();
  }

  /**
   * A WebSocket upstream: {@code /echo} sends every frame back as it came, {@code /close} says
   * hello and closes with 4001, {@code /proto} speaks only {@code chat.v2} and names the
   * subprotocol it chose, {@code /refuse} answers 403.
   */
  private static final class WsUpstream implements AutoCloseable {
    final List<HttpHeaders> handshakes = new CopyOnWriteArrayList<>();
    final List<WebSocketCloseStatus> closes = new CopyOnWriteArrayList<>();
    final DisposableServer server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .route(
                routes ->
                    routes
                        .get(
                            "/echo",
                            (request, response) -> {
                              handshakes.add(request.requestHeaders().copy());
                              return response.sendWebsocket(
                                  (in, out) -> {
                                    in.receiveCloseStatus().subscribe(closes::add);
                                    return out.sendObject(
                                        in.receiveFrames().map(WebSocketFrame::retain));
                                  },
                                  WebsocketServerSpec.builder().handlePing(true).build());
                            })
                        .get(
                            "/close",
                            (request, response) ->
                                response.sendWebsocket(
                                    (in, out) ->
                                        out.sendString(Mono.just("hello"))
                                            .then()
                                            .then(out.sendClose(4001, "bye"))))
                        .get(
                            "/proto",
                            (request, response) ->
                                response.sendWebsocket(
                                    (in, out) ->
                                        out.sendString(
                                            Mono.just(String.valueOf(out.selectedSubprotocol()))),
                                    WebsocketServerSpec.builder().protocols("chat.v2").build()))
                        .get(
                            "/refuse",
                            (request, response) -> {
                              handshakes.add(request.requestHeaders().copy());
                              return response
                                  .status(403)
                                  .header("X-Why", "no entry")
                                  .sendString(Mono.just("forbidden"));
                            }))
            .bindNow();

    String address() {
      return "127.0.0.1:" + server.port();
    }

    @Override
    public void close() {
      server.disposeNow();
    }
  }

  private static Resource resource(ResourceType type, String id, String json) {
    ObjectNode value = (ObjectNode) TestUpstream.JSON.readTree(json.replace('\'', '"'));
    value.put(type == ResourceType.CONSUMERS ? "username" : "id", id);
    return Resource.parse(type, id, value);
  }

  private void configure(Resource... resources) {
    ResourceSet.Builder set = ResourceSet.builder();
    for (Resource resource : resources) {
      set.add(resource);
    }
    table.set(RouteTable.compile(set.build(), PluginRegistry.standard(), table.get()));
  }

  /** One route on {@code /*} to {@code address}, with {@code extra} route fields. */
  private void route(String address, String extra) {
    configure(
        resource(
            ResourceType.ROUTES,
            "r1",
            "{'uri': '/*', 'upstream': {'nodes': {'" + address + "': 1}}" + extra + "}"));
  }

  private HttpClient.WebsocketSender websocket(String path, String protocols) {
    WebsocketClientSpec.Builder spec = WebsocketClientSpec.builder().handlePing(true);
    if (protocols != null) {
      spec.protocols(protocols);
    }
    return HttpClient.newConnection()
        .websocket(spec.build())
        .uri("ws://127.0.0.1:" + bound.port() + path);
  }

  /** A frame as received, copied out of its buffer. */
  private record Frame(String type, boolean last, byte[] payload) {
    static Frame of(WebSocketFrame frame) {
      return new Frame(
          frame.getClass().getSimpleName(),
          frame.isFinalFragment(),
          ByteBufUtil.getBytes(frame.content()));
    }

    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }
  }

  /** Sends {@code frames} and collects the first {@code count} frames that come back. */
  private List<Frame> exchange(String path, int count, WebSocketFrame... frames) {
    return websocket(path, null)
        .handle(
            (in, out) ->
                out.sendObject(Flux.fromArray(frames))
                    .then()
                    .thenMany(in.receiveFrames().take(count).map(Frame::of)))
        .collectList()
        .block(TIMEOUT);
  }

  private record Answer(int status, HttpHeaders headers, String body) {}

  /** A handshake sent as a plain request, so that a refusal's status and body can be read. */
  private Answer upgrade(String path, String... headers) {
    return HttpClient.newConnection()
        .headers(
            h -> {
              h.set("Connection", "Upgrade")
                  .set("Upgrade", "websocket")
                  .set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
                  .set("Sec-WebSocket-Version", "13");
              for (int i = 0; i < headers.length; i += 2) {
                h.set(headers[i], headers[i + 1]);
              }
            })
        .get()
        .uri("http://127.0.0.1:" + bound.port() + path)
        .responseSingle(
            (response, body) ->
                body.asString()
                    .defaultIfEmpty("")
                    .map(
                        text ->
                            new Answer(
                                response.status().code(),
                                new DefaultHttpHeaders().add(response.responseHeaders()),
                                text)))
        .block(TIMEOUT);
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  @Test
  void textBinaryAndPingFramesAreEchoedThroughTheProxy() {
    route(upstream.address(), ", 'enable_websocket': true");

    List<Frame> frames =
        exchange(
            "/echo?x=1",
            3,
            new TextWebSocketFrame("héllo"),
            new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1, 2, 3})),
            new PingWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {9})));

    assertThat(frames.get(0).type()).isEqualTo("TextWebSocketFrame");
    assertThat(frames.get(0).text()).isEqualTo("héllo");
    assertThat(frames.get(1).type()).isEqualTo("BinaryWebSocketFrame");
    assertThat(frames.get(1).payload()).containsExactly(1, 2, 3);
    // Pings are relayed, not answered by the proxy: the upstream echoed this one back.
    assertThat(frames.get(2).type()).isEqualTo("PingWebSocketFrame");
    assertThat(frames.get(2).payload()).containsExactly(9);

    HttpHeaders handshake = upstream.handshakes.get(0);
    assertThat(handshake.get("X-Forwarded-Proto")).isEqualTo("http");
    assertThat(handshake.get("X-Forwarded-For")).isEqualTo("127.0.0.1");
    assertThat(handshake.get("X-Forwarded-Port")).isEqualTo(Integer.toString(bound.port()));
    assertThat(handshake.get("Host")).isEqualTo("127.0.0.1:" + bound.port());
  }

  @Test
  void aOneMebibyteMessageInFragmentsIsRelayedFrameByFrame() {
    route(upstream.address(), ", 'enable_websocket': true");
    byte[] message = new byte[1 << 20];
    for (int i = 0; i < message.length; i++) {
      message[i] = TestUpstream.pattern(i);
    }
    int fragments = message.length / FRAGMENT;
    WebSocketFrame[] frames = new WebSocketFrame[fragments];
    for (int i = 0; i < fragments; i++) {
      boolean last = i == fragments - 1;
      var payload = Unpooled.wrappedBuffer(message, i * FRAGMENT, FRAGMENT);
      frames[i] =
          i == 0
              ? new BinaryWebSocketFrame(last, 0, payload)
              : new ContinuationWebSocketFrame(last, 0, payload);
    }

    List<Frame> echoed = exchange("/echo", fragments, frames);

    assertThat(echoed).hasSize(fragments);
    assertThat(echoed.get(0).type()).isEqualTo("BinaryWebSocketFrame");
    assertThat(echoed.subList(1, fragments))
        .allSatisfy(f -> assertThat(f.type()).isEqualTo("ContinuationWebSocketFrame"));
    assertThat(echoed.get(fragments - 1).last()).isTrue();
    ByteArrayOutputStream joined = new ByteArrayOutputStream();
    echoed.forEach(f -> joined.writeBytes(f.payload()));
    assertThat(joined.toByteArray()).isEqualTo(message);
  }

  @Test
  void theUpstreamsCloseStatusAndReasonReachTheClient() {
    route(upstream.address(), ", 'enable_websocket': true");

    List<Object> seen =
        websocket("/close", null)
            .handle(
                (in, out) ->
                    in.receiveFrames()
                        .map(frame -> (Object) Frame.of(frame).text())
                        .concatWith(in.receiveCloseStatus()))
            .collectList()
            .block(TIMEOUT);

    assertThat(seen).hasSize(2);
    assertThat(seen.get(0)).isEqualTo("hello");
    WebSocketCloseStatus status = (WebSocketCloseStatus) seen.get(1);
    assertThat(status.code()).isEqualTo(4001);
    assertThat(status.reasonText()).isEqualTo("bye");
  }

  @Test
  void aSocketIdleLongerThanTheUpstreamReadTimeoutIsDropped() {
    configure(
        resource(
            ResourceType.ROUTES,
            "r1",
            "{'uri': '/*', 'enable_websocket': true, 'upstream': {'nodes': {'"
                + upstream.address()
                + "': 1}, 'timeout': {'connect': 5, 'send': 5, 'read': 0.5}}}"));

    // The echo upstream sends nothing unless spoken to: after 0.5 s the proxy drops the socket,
    // well before TIMEOUT, and the client's frames end.
    List<Frame> frames =
        websocket("/echo", null)
            .handle((in, out) -> in.receiveFrames().map(Frame::of))
            .onErrorResume(lost -> Flux.empty())
            .collectList()
            .block(TIMEOUT);

    assertThat(frames).isEmpty();
  }

  @Test
  void theClientsCloseReachesTheUpstream() throws Exception {
    route(upstream.address(), ", 'enable_websocket': true");

    websocket("/echo", null)
        .handle(
            (in, out) ->
                out.sendString(Mono.just("ping"))
                    .then()
                    // Closes on the echo without cancelling the inbound: Reactor Netty would
                    // answer a cancel with a close frame of its own.
                    .thenMany(in.receiveFrames().concatMap(echo -> out.sendClose(1000, "done")))
                    .then(in.receiveCloseStatus()))
        .blockLast(TIMEOUT);

    await("the upstream sees the close", () -> !upstream.closes.isEmpty());
    assertThat(upstream.closes.get(0).code()).isEqualTo(1000);
    assertThat(upstream.closes.get(0).reasonText()).isEqualTo("done");
  }

  @Test
  void theHandshakeCarriesTheHeadersAndUriThePluginsLeft() {
    configure(
        resource(
            ResourceType.ROUTES,
            "r1",
            "{'uri': '/ws', 'enable_websocket': true, 'upstream': {'nodes': {'"
                + upstream.address()
                + "': 1}}, 'plugins': {'proxy-rewrite': {'uri': '/echo',"
                + " 'headers': {'set': {'X-Added': 'by plugin'}, 'remove': ['X-Secret']}}}}"));

    List<Frame> echoed =
        HttpClient.newConnection()
            .headers(h -> h.set("X-Trace", "t-1").set("X-Secret", "s"))
            .websocket()
            .uri("ws://127.0.0.1:" + bound.port() + "/ws")
            .handle(
                (in, out) ->
                    out.sendString(Mono.just("rewritten"))
                        .then()
                        .thenMany(in.receiveFrames().take(1).map(Frame::of)))
            .collectList()
            .block(TIMEOUT);

    assertThat(echoed.get(0).text()).isEqualTo("rewritten");
    HttpHeaders handshake = upstream.handshakes.get(0);
    assertThat(handshake.get("X-Trace")).isEqualTo("t-1");
    assertThat(handshake.get("X-Added")).isEqualTo("by plugin");
    assertThat(handshake.contains("X-Secret")).isFalse();
  }

  @Test
  void aLeastConnNodeIsReleasedWhenItsSocketCloses() throws Exception {
    configure(
        resource(
            ResourceType.ROUTES,
            "r1",
            "{'uri': '/*', 'enable_websocket': true, 'upstream': {'type': 'least_conn',"
                + " 'nodes': {'"
                + upstream.address()
                + "': 1}}}"));
    Upstream compiled =
        table.get().match("GET", null, "/echo").orElseThrow().upstream().orElseThrow();
    LeastConnections balancer = (LeastConnections) compiled.balancers().get(0);
    UpstreamNode node = compiled.nodes().get(0);
    AtomicInteger duringSession = new AtomicInteger(-1);

    websocket("/echo", null)
        .handle(
            (in, out) ->
                out.sendString(Mono.just("ping"))
                    .then()
                    .thenMany(
                        in.receiveFrames()
                            .concatMap(
                                echo -> {
                                  duringSession.set(balancer.active(node));
                                  return out.sendClose(1000, "done");
                                }))
                    .then(in.receiveCloseStatus()))
        .blockLast(TIMEOUT);

    assertThat(duringSession.get()).isEqualTo(1);
    await("the node is released", () -> balancer.active(node) == 0);
  }

  @Test
  void theSubprotocolTheUpstreamChoseIsTheOneTheClientGets() {
    route(upstream.address(), ", 'enable_websocket': true");

    List<String> seen =
        websocket("/proto", "chat.v1, chat.v2")
            .handle(
                (in, out) ->
                    in.receiveFrames()
                        .next()
                        .map(frame -> Frame.of(frame).text() + " " + in.selectedSubprotocol()))
            .collectList()
            .block(TIMEOUT);

    assertThat(seen).containsExactly("chat.v2 chat.v2");
  }

  @Test
  void keyAuthRefusesAnUpgradeWithoutAKeyBeforeReachingTheUpstream() {
    configure(
        resource(
            ResourceType.ROUTES,
            "r1",
            "{'uri': '/*', 'enable_websocket': true, 'plugins': {'key-auth': {}},"
                + " 'upstream': {'nodes': {'"
                + upstream.address()
                + "': 1}}}"),
        resource(ResourceType.CONSUMERS, "jack", "{'plugins': {'key-auth': {'key': 'k-jack'}}}"));

    Answer refused = upgrade("/echo");
    assertThat(refused.status()).isEqualTo(401);
    assertThat(upstream.handshakes).isEmpty();

    List<Frame> echoed =
        HttpClient.newConnection()
            .headers(h -> h.set("apikey", "k-jack"))
            .websocket()
            .uri("ws://127.0.0.1:" + bound.port() + "/echo")
            .handle(
                (in, out) ->
                    out.sendString(Mono.just("with a key"))
                        .then()
                        .thenMany(in.receiveFrames().take(1).map(Frame::of)))
            .collectList()
            .block(TIMEOUT);
    assertThat(echoed.get(0).text()).isEqualTo("with a key");
  }

  @Test
  void aServiceEnablesWebsocketsForItsRoutesUnlessTheRouteSaysOtherwise() {
    configure(
        resource(
            ResourceType.SERVICES,
            "s1",
            "{'enable_websocket': true, 'upstream': {'nodes': {'" + upstream.address() + "': 1}}}"),
        resource(ResourceType.ROUTES, "inherits", "{'uri': '/echo', 'service_id': 's1'}"),
        resource(
            ResourceType.ROUTES,
            "overrides",
            "{'uri': '/off', 'service_id': 's1', 'enable_websocket': false}"));

    assertThat(exchange("/echo", 1, new TextWebSocketFrame("via service")).get(0).text())
        .isEqualTo("via service");
    assertThat(table.get().match("GET", null, "/echo").orElseThrow().websocket()).isTrue();
    assertThat(table.get().match("GET", null, "/off").orElseThrow().websocket()).isFalse();
  }

  @Test
  void withoutEnableWebsocketTheUpstreamSeesAPlainGet() {
    route(plain.address(), "");

    Answer answer = upgrade("/anything");

    assertThat(answer.status()).isEqualTo(200);
    JsonNode headers = TestUpstream.JSON.readTree(answer.body()).get("headers");
    assertThat(headers.has("upgrade")).isFalse();
    assertThat(headers.path("connection").asString("")).doesNotContainIgnoringCase("upgrade");
  }

  @Test
  void anUnreachableUpstreamAnswers502() throws Exception {
    int closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = socket.getLocalPort();
    }
    route("127.0.0.1:" + closed, ", 'enable_websocket': true");

    Answer answer = upgrade("/echo");

    assertThat(answer.status()).isEqualTo(502);
    assertThat(TestUpstream.JSON.readTree(answer.body()).get("error_msg").asString())
        .isEqualTo("502 Bad Gateway");
  }

  @Test
  void anUpstreamThatDoesNotAcceptTheConnectionInTimeAnswers504() throws Exception {
    // A listener that never accepts, with its accept queue filled: further SYNs go unanswered.
    List<Socket> queued = new ArrayList<>();
    try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      try {
        while (true) {
          Socket socket = new Socket();
          queued.add(socket);
          socket.connect(full.getLocalSocketAddress(), 200);
        }
      } catch (SocketTimeoutException queueFull) {
        // The last connect got no answer: the queue is full.
      }
      configure(
          resource(
              ResourceType.ROUTES,
              "r1",
              "{'uri': '/*', 'enable_websocket': true, 'upstream': {'nodes': {'127.0.0.1:"
                  + full.getLocalPort()
                  + "': 1}, 'timeout': {'connect': 0.3, 'send': 5, 'read': 5}}}"));

      Answer answer = upgrade("/echo");

      assertThat(answer.status()).isEqualTo(504);
      assertThat(TestUpstream.JSON.readTree(answer.body()).get("error_msg").asString())
          .isEqualTo("504 Gateway Timeout");
    } finally {
      for (Socket socket : queued) {
        socket.close();
      }
    }
  }

  @Test
  void anUpstreamRefusingTheHandshakeHasItsStatusRelayed() {
    route(upstream.address(), ", 'enable_websocket': true");

    Answer answer = upgrade("/refuse");

    assertThat(answer.status()).isEqualTo(403);
    assertThat(answer.headers().get("X-Why")).isEqualTo("no entry");
    assertThat(upstream.handshakes).hasSize(1);
  }

  @Test
  void aNonBooleanEnableWebsocketIsRefusedNamingTheResourceAndField() {
    assertThatThrownBy(
            () ->
                resource(
                    ResourceType.ROUTES,
                    "r9",
                    "{'uri': '/', 'upstream_id': 'u', 'enable_websocket': 'yes'}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("route 'r9': enable_websocket: must be true or false");
    assertThatThrownBy(() -> resource(ResourceType.SERVICES, "s9", "{'enable_websocket': 1}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("service 's9': enable_websocket: must be true or false");
  }
}
