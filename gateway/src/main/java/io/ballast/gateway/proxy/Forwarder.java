package io.ballast.gateway.proxy;

import io.ballast.gateway.health.HealthChecker;
import io.ballast.gateway.http.HopByHop;
import io.ballast.gateway.plugin.Exchange;
import io.ballast.gateway.plugin.PluginRunner;
import io.ballast.gateway.plugin.ResponseHead;
import io.ballast.gateway.upstream.BalanceContext;
import io.ballast.gateway.upstream.Upstream;
import io.ballast.resource.UpstreamNode;
import io.ballast.resource.UpstreamTimeouts;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.WriteTimeoutHandler;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * Sends one HTTP request to a node of its upstream and streams the answer back, trying other nodes
 * when the first cannot be reached. Bodies are streamed both ways, never aggregated.
 */
final class Forwarder {

  private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);
  private static final String SEND_TIMEOUT_HANDLER = "ballast.sendTimeout";

  private final UpstreamClients clients;
  private final Function<Upstream, HealthChecker> checkers;

  /** {@code checkers} gives an upstream's health checker, or {@code null} when it has none. */
  Forwarder(UpstreamClients clients, Function<Upstream, HealthChecker> checkers) {
    this.clients = clients;
    this.checkers = checkers;
  }

  /**
   * Sends the request to a node of {@code upstream} and streams its answer back, trying other nodes
   * as nginx's {@code proxy_next_upstream error timeout} would: after a connect failure, a connect
   * timeout or a connection lost before the response started, but only while no request body was
   * read (a body streams through once and cannot be replayed). At most {@link Upstream#retries}
   * more nodes, within {@link Upstream#retryTimeout} when set.
   */
  Mono<Void> forward(
      HttpServerRequest request,
      HttpServerResponse response,
      Upstream upstream,
      BalanceContext ctx,
      Exchange exchange,
      PluginRunner plugins) {
    HealthChecker checker = upstream.checks() == null ? null : checkers.apply(upstream);
    long deadline =
        upstream.retryTimeout().isZero()
            ? Long.MAX_VALUE
            : System.nanoTime() + upstream.retryTimeout().toNanos();
    Forwarding forwarding =
        new Forwarding(
            request,
            response,
            upstream,
            ctx,
            exchange,
            plugins,
            checker,
            deadline,
            new HashSet<>(),
            new AtomicBoolean());
    return tryNextNode(forwarding);
  }

  /** One request's way through {@link #forward}: what every attempt needs, and what was tried. */
  private record Forwarding(
      HttpServerRequest request,
      HttpServerResponse response,
      Upstream upstream,
      BalanceContext ctx,
      Exchange exchange,
      PluginRunner plugins,
      HealthChecker checker,
      long deadline,
      Set<UpstreamNode> tried,
      AtomicBoolean resentOnFreshConnection) {

    boolean usable(UpstreamNode node) {
      return checker == null || checker.isHealthy(node);
    }
  }

  /** Picks an untried node and sends the request there; on a retryable failure, calls itself. */
  private Mono<Void> tryNextNode(Forwarding f) {
    UpstreamNode node = f.upstream().pick(f.ctx(), f.tried(), f::usable);
    if (node == null) {
      LOG.warn(
          "route '{}': {} has no node with a positive weight",
          f.exchange().routeId(),
          f.upstream().name());
      return Replies.send(f.response(), f.exchange(), f.plugins(), Replies.badGateway());
    }
    f.tried().add(node);
    f.exchange().upstreamNode(node.authority());
    return attempt(f, node)
        .doFinally(signal -> f.upstream().release(node))
        .onErrorResume(
            AttemptFailed.class,
            failed -> {
              Throwable cause = failed.getCause();
              if (!failed.responseStarted
                  && !failed.bodyRead
                  && UpstreamFailures.safeToResend(cause, f.exchange().upstreamMethod())
                  && f.resentOnFreshConnection().compareAndSet(false, true)) {
                // Most likely a pooled connection closed under us (see safeToResend): no fault of
                // the node. nginx, too, gives a cached connection's error a free try.
                LOG.debug(
                    "route '{}': connection to {} closed before the response; sending again",
                    f.exchange().routeId(),
                    node.authority());
                f.tried().remove(node);
                return tryNextNode(f);
              }
              if (f.checker() != null && !failed.responseStarted) {
                if (UpstreamFailures.isTimeout(cause)) {
                  f.checker().reportTimeout(node);
                } else {
                  f.checker().reportTcpFailure(node);
                }
              }
              boolean retry =
                  !failed.responseStarted
                      && !failed.bodyRead
                      && !UpstreamFailures.isReadTimeout(cause)
                      && f.tried().size() <= f.upstream().retries()
                      && System.nanoTime() < f.deadline();
              LOG.warn(
                  "route '{}': upstream {} {}{}: {}",
                  f.exchange().routeId(),
                  node.authority(),
                  UpstreamFailures.isTimeout(cause) ? "timed out" : "failed",
                  retry ? ", trying another node" : "",
                  cause.toString());
              return retry
                  ? tryNextNode(f)
                  : answerFailure(f.response(), failed, f.exchange(), f.plugins());
            });
  }

  /** One try on one node; failures come wrapped in {@link AttemptFailed}. */
  private Mono<Void> attempt(Forwarding f, UpstreamNode node) {
    HttpServerRequest request = f.request();
    HttpServerResponse response = f.response();
    Upstream upstream = f.upstream();
    Exchange exchange = f.exchange();
    HealthChecker checker = f.checker();
    UpstreamTimeouts timeouts = upstream.timeouts();
    boolean hasLength = request.requestHeaders().contains(HttpHeaderNames.CONTENT_LENGTH);
    boolean chunked =
        !hasLength && request.requestHeaders().contains(HttpHeaderNames.TRANSFER_ENCODING);
    AtomicBoolean responseStarted = new AtomicBoolean();
    AtomicBoolean bodyRead = new AtomicBoolean();
    long sentNanos = System.nanoTime();
    return clients
        .pooled(upstream)
        .request(HttpMethod.valueOf(exchange.upstreamMethod()))
        .uri(upstream.scheme() + "://" + node.authority() + exchange.upstreamUri())
        .send(
            (upstreamRequest, out) -> {
              HttpHeaders headers = upstreamRequest.requestHeaders();
              UpstreamRequestHeaders.fill(headers, request, upstream, node, exchange);
              if (chunked) {
                // Transfer-Encoding is hop-by-hop, but a body of unknown length still needs
                // framing on this hop, or the upstream reads it as the next request.
                headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
              }
              upstreamRequest.responseTimeout(timeouts.read());
              out.withConnection(
                  connection ->
                      connection.addHandlerFirst(
                          SEND_TIMEOUT_HANDLER,
                          new WriteTimeoutHandler(
                              timeouts.send().toMillis(), TimeUnit.MILLISECONDS)));
              if (!hasLength && !chunked) {
                return Mono.empty();
              }
              // Once a byte of the body has left the inbound, it cannot be sent to another node.
              return out.send(request.receive().retain().doOnNext(buf -> bodyRead.set(true)));
            })
        .response(
            (upstreamResponse, body) -> {
              responseStarted.set(true);
              exchange.upstreamNanos(System.nanoTime() - sentNanos);
              if (checker != null) {
                checker.reportHttpStatus(node, upstreamResponse.status().code());
              }
              // Straight into the response's own headers, where the plugins change them in place.
              HopByHop.copyEndToEnd(upstreamResponse.responseHeaders(), response.responseHeaders());
              ResponseHead head =
                  new ResponseHead(
                      upstreamResponse.status().code(), response.responseHeaders(), true);
              f.plugins().responseHead(exchange, head);
              response.status(head.status());
              if (head.replacementBody() != null) {
                // The upstream's body is left unread; its connection is closed, not reused.
                exchange.addBytesSent(head.replacementBody().length);
                return response.sendByteArray(Mono.just(head.replacementBody()));
              }
              if (needsChunks(request, head)) {
                // As for the request: Transfer-Encoding is hop-by-hop, so a body of unknown length
                // needs framing on this hop too. Without it the body ends when the connection
                // closes, and a client cannot tell an upstream failure mid-body from the end.
                response.header(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
              }
              return response.send(
                  body.retain().doOnNext(buf -> exchange.addBytesSent(buf.readableBytes())));
            })
        .then()
        .onErrorMap(failure -> new AttemptFailed(failure, responseStarted.get(), bodyRead.get()));
  }

  /**
   * Whether a streamed response needs chunked framing: it has a body (not an answer to HEAD, not
   * 1xx, 204 or 304), no Content-Length, and the client speaks HTTP/1.1 (HTTP/1.0 has no chunks).
   */
  private static boolean needsChunks(HttpServerRequest request, ResponseHead head) {
    int status = head.status();
    return !head.headers().contains(HttpHeaderNames.CONTENT_LENGTH)
        && HttpVersion.HTTP_1_1.equals(request.version())
        && !HttpMethod.HEAD.equals(request.method())
        && status >= 200
        && status != 204
        && status != 304;
  }

  /** The answer when no further node will be tried. */
  private static Mono<Void> answerFailure(
      HttpServerResponse response, AttemptFailed failed, Exchange exchange, PluginRunner plugins) {
    if (response.hasSentHeaders()) {
      // Too late for an error page: failing the exchange closes the client connection.
      return Mono.error(failed.getCause());
    }
    return Replies.send(
        response,
        exchange,
        plugins,
        UpstreamFailures.isTimeout(failed.getCause())
            ? Replies.gatewayTimeout()
            : Replies.badGateway());
  }

  /**
   * A failed attempt, whether the upstream had started its response and whether a byte of the
   * request body had left the inbound: after either, no other node may be tried.
   */
  private static final class AttemptFailed extends RuntimeException {
    final boolean responseStarted;
    final boolean bodyRead;

    AttemptFailed(Throwable cause, boolean responseStarted, boolean bodyRead) {
      super(cause.toString(), cause, false, false);
      this.responseStarted = responseStarted;
      this.bodyRead = bodyRead;
    }
  }
}
