package io.ballast.service.proxy;

import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.timeout.WriteTimeoutHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.resources.ConnectionProvider;
import tools.jackson.databind.json.JsonMapper;

/**
 * The data-plane HTTP proxy: Reactor Netty server in front, one pooled Reactor Netty client behind.
 * Each request reads the current {@link RouteTable} once, so a configuration swap never changes the
 * route of a request in flight. Bodies are streamed both ways, never aggregated.
 *
 * <p>Errors are APISIX-style JSON: 404 without a route, 503 without an upstream, 502 when the
 * upstream cannot be reached or fails before its response starts, 504 on a connect or read timeout.
 * One access-log line per request goes to the {@code ballast.access} logger.
 */
public final class ProxyServer implements Disposable {

  private static final Logger ACCESS = LoggerFactory.getLogger("ballast.access");
  private static final Logger LOG = LoggerFactory.getLogger(ProxyServer.class);
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String SEND_TIMEOUT_HANDLER = "ballast.sendTimeout";

  /** nginx's code for a client that went away before the response was complete. */
  private static final int CLIENT_CLOSED = 499;

  private final Supplier<RouteTable> currentTable;
  private final ConnectionProvider connections;
  private final HttpClient client;

  /**
   * The connect timeout is a channel option, fixed per client; derived clients share the pool.
   * Keyed by the few distinct timeouts configured, so the map stays small.
   */
  private final Map<Duration, HttpClient> clientsByConnectTimeout = new ConcurrentHashMap<>();

  private volatile DisposableServer server;

  public ProxyServer(Supplier<RouteTable> currentTable, ProxyOptions options) {
    this.currentTable = Objects.requireNonNull(currentTable, "currentTable");
    Objects.requireNonNull(options, "options");
    this.connections =
        ConnectionProvider.builder("ballast-proxy")
            .maxConnections(options.maxConnectionsPerNode())
            .maxIdleTime(options.maxIdleTime())
            .pendingAcquireTimeout(options.pendingAcquireTimeout())
            .evictInBackground(options.maxIdleTime())
            // Pools are per upstream address; drop those of nodes no longer configured.
            .disposeInactivePoolsInBackground(
                options.maxIdleTime(), options.maxIdleTime().multipliedBy(2))
            .build();
    this.client = HttpClient.create(connections).followRedirect(false).compress(false);
  }

  /** Binds the proxy; port 0 picks a free port (see {@link DisposableServer#port()}). */
  public Mono<DisposableServer> start(String host, int port) {
    return HttpServer.create()
        .host(host)
        .port(port)
        .handle(this::handle)
        .bind()
        .cast(DisposableServer.class)
        .doOnNext(bound -> this.server = bound);
  }

  /** Stops accepting, closes the listening socket and the upstream connection pool. */
  public void stop() {
    DisposableServer bound = server;
    if (bound != null) {
      bound.disposeNow();
    }
    connections.dispose();
  }

  @Override
  public void dispose() {
    stop();
  }

  @Override
  public boolean isDisposed() {
    return connections.isDisposed();
  }

  private Mono<Void> handle(HttpServerRequest request, HttpServerResponse response) {
    long startNanos = System.nanoTime();
    String uri = originForm(request.uri());
    int queryStart = uri.indexOf('?');
    String path = queryStart < 0 ? uri : uri.substring(0, queryStart);
    String method = request.method().name();

    RouteTable table = currentTable.get();
    Optional<RouteMatch> match = table.match(new NettyRouteRequest(request, method, uri, path));
    Mono<Void> exchange;
    String routeId = match.map(RouteMatch::routeId).orElse("-");
    String nodeName = "-";
    if (match.isEmpty()) {
      exchange = error(response, HttpResponseStatus.NOT_FOUND, "404 Route Not Found");
    } else if (match.get().upstream().isEmpty()) {
      exchange =
          error(
              response,
              HttpResponseStatus.SERVICE_UNAVAILABLE,
              "no upstream for route '" + match.get().routeId() + "'");
    } else {
      Upstream upstream = match.get().upstream().get();
      Optional<UpstreamNode> node = upstream.pick();
      if (node.isEmpty()) {
        LOG.warn(
            "route '{}': {} has no node with a positive weight",
            match.get().routeId(),
            upstream.name());
        exchange = error(response, HttpResponseStatus.BAD_GATEWAY, "502 Bad Gateway");
      } else {
        nodeName = node.get().authority();
        exchange = forward(request, response, uri, match.get().routeId(), upstream, node.get());
      }
    }
    String loggedNode = nodeName;
    return exchange.doFinally(
        signal -> logAccess(method, path, response, signal, routeId, loggedNode, startNanos));
  }

  private Mono<Void> forward(
      HttpServerRequest request,
      HttpServerResponse response,
      String uri,
      String routeId,
      Upstream upstream,
      UpstreamNode node) {
    UpstreamTimeouts timeouts = upstream.timeouts();
    boolean hasLength = request.requestHeaders().contains(HttpHeaderNames.CONTENT_LENGTH);
    boolean chunked =
        !hasLength && request.requestHeaders().contains(HttpHeaderNames.TRANSFER_ENCODING);
    return clientFor(timeouts.connect())
        .request(request.method())
        .uri(upstream.scheme() + "://" + node.authority() + uri)
        .send(
            (upstreamRequest, out) -> {
              HttpHeaders headers = upstreamRequest.requestHeaders();
              // Replace the client's defaults (user-agent, accept) with what the caller sent.
              headers.clear();
              HopByHop.copyEndToEnd(request.requestHeaders(), headers);
              // The server already answered any 100-continue; the upstream must not answer again.
              headers.remove(HttpHeaderNames.EXPECT);
              headers.set(HttpHeaderNames.HOST, upstreamHost(request, upstream, node));
              addForwardedHeaders(request, headers);
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
              return hasLength || chunked ? out.send(request.receive().retain()) : Mono.empty();
            })
        .response(
            (upstreamResponse, body) -> {
              response.status(upstreamResponse.status());
              HopByHop.copyEndToEnd(upstreamResponse.responseHeaders(), response.responseHeaders());
              return response.send(body.retain());
            })
        .then()
        .onErrorResume(
            failure -> {
              if (response.hasSentHeaders()) {
                // Too late for an error page: failing the exchange closes the client connection.
                LOG.warn(
                    "route '{}': upstream {} failed mid-response: {}",
                    routeId,
                    node.authority(),
                    failure.toString());
                return Mono.error(failure);
              }
              boolean timedOut = isTimeout(failure);
              LOG.warn(
                  "route '{}': upstream {} {}: {}",
                  routeId,
                  node.authority(),
                  timedOut ? "timed out" : "failed",
                  failure.toString());
              return timedOut
                  ? error(response, HttpResponseStatus.GATEWAY_TIMEOUT, "504 Gateway Timeout")
                  : error(response, HttpResponseStatus.BAD_GATEWAY, "502 Bad Gateway");
            });
  }

  private HttpClient clientFor(Duration connectTimeout) {
    return clientsByConnectTimeout.computeIfAbsent(
        connectTimeout,
        timeout ->
            client.option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int) Math.min(Integer.MAX_VALUE, timeout.toMillis())));
  }

  private static String upstreamHost(
      HttpServerRequest request, Upstream upstream, UpstreamNode node) {
    return switch (upstream.passHost()) {
      case PASS -> {
        String host = request.requestHeaders().get(HttpHeaderNames.HOST);
        yield host != null ? host : node.authority();
      }
      case NODE -> {
        int defaultPort = upstream.scheme().equals("https") ? 443 : 80;
        yield node.port() == defaultPort
            ? node.authority().substring(0, node.authority().lastIndexOf(':'))
            : node.authority();
      }
      case REWRITE -> upstream.upstreamHost();
    };
  }

  private static void addForwardedHeaders(HttpServerRequest request, HttpHeaders headers) {
    InetSocketAddress remote = request.remoteAddress();
    if (remote != null && remote.getAddress() != null) {
      String client = remote.getAddress().getHostAddress();
      String prior = String.join(", ", request.requestHeaders().getAll("X-Forwarded-For"));
      headers.set("X-Forwarded-For", prior.isEmpty() ? client : prior + ", " + client);
    }
    headers.set("X-Forwarded-Proto", request.scheme());
    String host = RouteTable.normalizeHost(request.requestHeaders().get(HttpHeaderNames.HOST));
    if (host != null) {
      headers.set("X-Forwarded-Host", host);
    }
    InetSocketAddress local = request.hostAddress();
    if (local != null) {
      headers.set("X-Forwarded-Port", Integer.toString(local.getPort()));
    }
  }

  /** The request target as path and query, also when a client sent the absolute form. */
  private static String originForm(String uri) {
    if (uri.startsWith("/")) {
      return uri;
    }
    int scheme = uri.indexOf("://");
    if (scheme > 0) {
      int slash = uri.indexOf('/', scheme + 3);
      if (slash < 0) {
        int query = uri.indexOf('?', scheme + 3);
        return query < 0 ? "/" : "/" + uri.substring(query);
      }
      return uri.substring(slash);
    }
    return "/" + uri;
  }

  private static boolean isTimeout(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      // Netty's read/write timeouts, pool acquire timeouts and connect timeouts.
      if (t instanceof io.netty.handler.timeout.TimeoutException
          || t instanceof TimeoutException
          || t instanceof ConnectTimeoutException) {
        return true;
      }
    }
    return false;
  }

  private static Mono<Void> error(
      HttpServerResponse response, HttpResponseStatus status, String message) {
    byte[] body = JSON.writeValueAsBytes(Map.of("error_msg", message));
    return response
        .status(status)
        .header(HttpHeaderNames.CONTENT_TYPE, "application/json")
        .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length))
        .sendByteArray(Mono.just(body))
        .then();
  }

  private static void logAccess(
      String method,
      String path,
      HttpServerResponse response,
      SignalType signal,
      String routeId,
      String node,
      long startNanos) {
    if (!ACCESS.isInfoEnabled()) {
      return;
    }
    // Like nginx: 499 only when the client left before the response started. Reactor Netty may
    // also cancel an exchange whose response it has completed, so a cancel alone says nothing.
    int status =
        signal == SignalType.CANCEL && !response.hasSentHeaders()
            ? CLIENT_CLOSED
            : response.status().code();
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    // No query string, headers or bodies: they may carry credentials.
    ACCESS.info("{} {} {} route={} upstream={} {}ms", method, path, status, routeId, node, millis);
  }
}
