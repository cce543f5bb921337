package io.ballast.gateway.proxy;

import io.ballast.gateway.health.HealthChecker;
import io.ballast.gateway.http.HopByHop;
import io.ballast.gateway.plugin.Exchange;
import io.ballast.gateway.plugin.PluginRunner;
import io.ballast.gateway.plugin.Reply;
import io.ballast.gateway.plugin.ResponseHead;
import io.ballast.gateway.upstream.BalanceContext;
import io.ballast.gateway.upstream.Upstream;
import io.ballast.resource.UpstreamNode;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakeException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ReferenceCounted;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.Connection;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.WebsocketServerSpec;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * Proxies a WebSocket upgrade on a route with APISIX's {@code enable_websocket}: opens the
 * WebSocket to a node of the upstream first, then accepts the client's upgrade with the subprotocol
 * the node chose, and relays frames both ways one by one (text, binary, continuation, ping, pong)
 * until either side closes; a close status and reason pass through to the other side. Reactor Netty
 * answers a close frame on each leg itself, so the side that closed first gets its own status back
 * rather than the far side's answer.
 *
 * <p>A node that cannot be reached answers 502 (504 on a connect timeout) and a node that refuses
 * the handshake has its status and headers relayed, without its body. Nothing is retried: a
 * handshake may have effects on the upstream.
 */
final class WebSocketProxy {

  private static final Logger LOG = LoggerFactory.getLogger(WebSocketProxy.class);

  /**
   * The largest frame payload accepted from either side. Browsers send a message as one frame, so
   * 64 KiB (Reactor Netty's default) would cut off ordinary messages; each frame is held whole in
   * memory while it is read, so it is not unlimited either.
   */
  static final int MAX_FRAME_PAYLOAD = 1 << 20;

  /** Headers of the client's handshake that the upstream handshake sets itself. */
  private static final List<String> HANDSHAKE_HEADERS =
      List.of(
          "sec-websocket-key",
          "sec-websocket-version",
          "sec-websocket-protocol",
          // Frames are relayed as they are, so no extension (compression) may be negotiated.
          "sec-websocket-extensions");

  /** Entity headers of a refused handshake, whose body is not relayed. */
  private static final List<String> REFUSAL_BODY_HEADERS =
      List.of("content-length", "content-type", "content-encoding", "transfer-encoding");

  private final UpstreamClients clients;
  private final Function<Upstream, HealthChecker> checkers;

  /** {@code checkers} gives an upstream's health checker, or {@code null} when it has none. */
  WebSocketProxy(UpstreamClients clients, Function<Upstream, HealthChecker> checkers) {
    this.clients = clients;
    this.checkers = checkers;
  }

  /**
   * Whether a request asks for a WebSocket: a GET with {@code Connection: upgrade} and {@code
   * Upgrade: websocket}, case-insensitive.
   */
  static boolean isUpgrade(HttpServerRequest request) {
    HttpHeaders headers = request.requestHeaders();
    return request.method().equals(HttpMethod.GET)
        && headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
        && headers.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
  }

  /**
   * Proxies one upgrade request whose plugins let it through. Completes when both sides are closed;
   * the upstream node is released then.
   */
  Mono<Void> proxy(
      HttpServerRequest request,
      HttpServerResponse response,
      Upstream upstream,
      BalanceContext ctx,
      Exchange exchange,
      PluginRunner plugins) {
    HealthChecker checker = upstream.checks() == null ? null : checkers.apply(upstream);
    Predicate<UpstreamNode> usable = checker == null ? node -> true : checker::isHealthy;
    UpstreamNode node = upstream.pick(ctx, Set.of(), usable);
    if (node == null) {
      LOG.warn(
          "route '{}': {} has no node with a positive weight", exchange.routeId(), upstream.name());
      return Replies.send(response, exchange, plugins, Replies.badGateway());
    }
    exchange.upstreamNode(node.authority());
    // The client's offer as the plugins left it; the upstream chooses, the client gets its choice.
    String offered =
        String.join(",", exchange.upstreamHeaders().getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL));
    WebsocketClientSpec.Builder spec =
        WebsocketClientSpec.builder().maxFramePayloadLength(MAX_FRAME_PAYLOAD).handlePing(true);
    if (!offered.isEmpty()) {
      spec.protocols(offered);
    }
    // The upstream socket stays open until the client's side of the bridge has ended.
    Sinks.Empty<Void> bridged = Sinks.empty();
    long sentNanos = System.nanoTime();
    return clients
        .unpooled(upstream)
        .headers(headers -> upstreamHeaders(request, upstream, node, exchange, headers))
        .websocket(spec.build())
        .uri(
            (upstream.scheme().equals("https") ? "wss" : "ws")
                + "://"
                + node.authority()
                + exchange.upstreamUri())
        .handle(
            (upIn, upOut) -> {
              exchange.upstreamNanos(System.nanoTime() - sentNanos);
              // nginx's proxy_read_timeout: a socket whose upstream sends nothing that long is
              // dropped, both legs (the relay drops the client's when the upstream's ends).
              upIn.withConnection(
                  connection ->
                      connection.onReadIdle(
                          upstream.timeouts().read().toMillis(), connection::dispose));
              if (checker != null) {
                checker.reportHttpStatus(node, HttpResponseStatus.SWITCHING_PROTOCOLS.code());
              }
              return accept(response, upIn, upOut, exchange, plugins, bridged)
                  .then(bridged.asMono());
            })
        .then()
        .doFinally(signal -> upstream.release(node))
        .onErrorResume(
            failure -> answerFailure(response, failure, node, checker, exchange, plugins));
  }

  /** Accepts the client's upgrade with the subprotocol the upstream chose, then bridges. */
  private static Mono<Void> accept(
      HttpServerResponse response,
      WebsocketInbound upIn,
      WebsocketOutbound upOut,
      Exchange exchange,
      PluginRunner plugins,
      Sinks.Empty<Void> bridged) {
    ResponseHead head =
        new ResponseHead(
            HttpResponseStatus.SWITCHING_PROTOCOLS.code(), new DefaultHttpHeaders(), true);
    plugins.responseHead(exchange, head);
    // Only headers can ride on a 101: a status or body a plugin set is not applied.
    response.headers(head.headers());
    // For the access log and the log phase; the handshake writes its own status line.
    response.status(HttpResponseStatus.SWITCHING_PROTOCOLS);
    WebsocketServerSpec.Builder spec =
        WebsocketServerSpec.builder().maxFramePayloadLength(MAX_FRAME_PAYLOAD).handlePing(true);
    if (upIn.selectedSubprotocol() != null) {
      spec.protocols(upIn.selectedSubprotocol());
    }
    return response.sendWebsocket(
        (downIn, downOut) ->
            Mono.when(relay(upIn, downOut, downIn, exchange), relay(downIn, upOut, upIn, null))
                .doFinally(signal -> bridged.tryEmitEmpty()),
        spec.build());
  }

  /**
   * Sends every frame of {@code from} to {@code to} as it comes, then ends {@code to} (whose
   * connection is {@code toConnection}) as {@code from} ended. {@code counted} receives the payload
   * bytes sent, or is {@code null}.
   *
   * <p>Frames go one at a time and a failed write drops its frame instead of cancelling {@code
   * from}: Reactor Netty answers a cancelled inbound with an empty close frame, which would
   * overtake the close status that the other relay is passing on when {@code to} has just closed.
   */
  private static Mono<Void> relay(
      WebsocketInbound from,
      WebsocketOutbound to,
      WebsocketInbound toConnection,
      Exchange counted) {
    return from.receiveFrames()
        .map(
            frame -> {
              if (counted != null) {
                counted.addBytesSent(frame.content().readableBytes());
              }
              // Inbound frames are released after this step; the outbound releases ours.
              return frame.retain();
            })
        .concatMap(frame -> to.sendObject(frame).then().onErrorResume(failure -> Mono.empty()), 1)
        .doOnDiscard(ReferenceCounted.class, ReferenceCountUtil::safeRelease)
        .then(from.receiveCloseStatus().defaultIfEmpty(WebSocketCloseStatus.ABNORMAL_CLOSURE))
        .flatMap(status -> passClose(status, to, toConnection))
        .onErrorResume(
            failure -> {
              LOG.debug("websocket relay ended: {}", failure.toString());
              toConnection.withConnection(Connection::dispose);
              return Mono.empty();
            });
  }

  /**
   * Ends the other side as {@code status} ended this one: with the same close code and reason, with
   * an empty close frame for 1005 (none was given), and for 1006 (the connection was lost) by
   * dropping the connection, as neither code may be sent.
   */
  private static Mono<Void> passClose(
      WebSocketCloseStatus status, WebsocketOutbound to, WebsocketInbound toConnection) {
    int code = status.code();
    if (code == WebSocketCloseStatus.ABNORMAL_CLOSURE.code()) {
      toConnection.withConnection(Connection::dispose);
      return Mono.empty();
    }
    if (code == WebSocketCloseStatus.EMPTY.code()) {
      return to.sendClose();
    }
    return to.sendClose(code, status.reasonText());
  }

  private static void upstreamHeaders(
      HttpServerRequest request,
      Upstream upstream,
      UpstreamNode node,
      Exchange exchange,
      HttpHeaders headers) {
    UpstreamRequestHeaders.fill(headers, request, upstream, node, exchange);
    HANDSHAKE_HEADERS.forEach(headers::remove);
  }

  private Mono<Void> answerFailure(
      HttpServerResponse response,
      Throwable failure,
      UpstreamNode node,
      HealthChecker checker,
      Exchange exchange,
      PluginRunner plugins) {
    if (response.hasSentHeaders()) {
      // The upgrade was accepted; the bridge has closed what it could.
      LOG.debug("route '{}': websocket to {} ended: {}", exchange.routeId(), node, failure);
      return Mono.empty();
    }
    if (failure instanceof WebSocketClientHandshakeException refused
        && refused.response() != null) {
      int status = refused.response().status().code();
      if (checker != null) {
        checker.reportHttpStatus(node, status);
      }
      LOG.info(
          "route '{}': upstream {} refused the websocket handshake with {}",
          exchange.routeId(),
          node.authority(),
          status);
      HttpHeaders headers = new DefaultHttpHeaders();
      HopByHop.copyEndToEnd(refused.response().headers(), headers);
      REFUSAL_BODY_HEADERS.forEach(headers::remove);
      return Replies.send(response, exchange, plugins, new Reply(status, headers, new byte[0]));
    }
    boolean timeout = UpstreamFailures.isTimeout(failure);
    if (checker != null) {
      if (timeout) {
        checker.reportTimeout(node);
      } else {
        checker.reportTcpFailure(node);
      }
    }
    LOG.warn(
        "route '{}': websocket upstream {} {}: {}",
        exchange.routeId(),
        node.authority(),
        timeout ? "timed out" : "failed",
        failure.toString());
    return Replies.send(
        response, exchange, plugins, timeout ? Replies.gatewayTimeout() : Replies.badGateway());
  }
}
