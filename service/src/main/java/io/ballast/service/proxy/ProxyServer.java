package io.ballast.service.proxy;

import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.handler.timeout.WriteTimeoutHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.netty.DisposableServer;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.resources.ConnectionProvider;
import reactor.util.retry.Retry;
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
  private final ProxyOptions options;

  /** One pool per distinct keepalive_pool setting; most configurations have one or two. */
  private final Map<KeepalivePool, ConnectionProvider> providers = new ConcurrentHashMap<>();

  private final Map<ClientKey, HttpClient> clients = new ConcurrentHashMap<>();
  private volatile boolean disposed;

  private volatile DisposableServer server;

  public ProxyServer(Supplier<RouteTable> currentTable, ProxyOptions options) {
    this.currentTable = Objects.requireNonNull(currentTable, "currentTable");
    this.options = Objects.requireNonNull(options, "options");
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
    disposed = true;
    providers.values().forEach(ConnectionProvider::dispose);
  }

  @Override
  public void dispose() {
    stop();
  }

  @Override
  public boolean isDisposed() {
    return disposed;
  }

  private Mono<Void> handle(HttpServerRequest request, HttpServerResponse response) {
    long startNanos = System.nanoTime();
    String uri = originForm(request.uri());
    int queryStart = uri.indexOf('?');
    String path = queryStart < 0 ? uri : uri.substring(0, queryStart);
    String method = request.method().name();

    RouteTable table = currentTable.get();
    RouteRequest routeRequest = new NettyRouteRequest(request, method, uri, path);
    Optional<RouteMatch> match = table.match(routeRequest);
    Mono<Void> exchange;
    String routeId = match.map(RouteMatch::routeId).orElse("-");
    AtomicReference<String> nodeName = new AtomicReference<>("-");
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
      BalanceContext ctx = new BalanceContext(routeRequest, uri, null);
      exchange = forward(request, response, uri, routeId, upstream, ctx, nodeName);
    }
    return exchange.doFinally(
        signal -> logAccess(method, path, response, signal, routeId, nodeName.get(), startNanos));
  }

  /**
   * Sends the request to a node of {@code upstream} and streams its answer back, trying other nodes
   * as nginx's {@code proxy_next_upstream error timeout} would: after a connect failure, a connect
   * timeout or a connection lost before the response started, but only while no request body was
   * read (a body streams through once and cannot be replayed). At most {@link Upstream#retries}
   * more nodes, within {@link Upstream#retryTimeout} when set. {@code nodeName} receives the node
   * of the last attempt, for the access log.
   */
  private Mono<Void> forward(
      HttpServerRequest request,
      HttpServerResponse response,
      String uri,
      String routeId,
      Upstream upstream,
      BalanceContext ctx,
      AtomicReference<String> nodeName) {
    Set<UpstreamNode> tried = new HashSet<>();
    long deadline =
        upstream.retryTimeout().isZero()
            ? Long.MAX_VALUE
            : System.nanoTime() + upstream.retryTimeout().toNanos();
    AtomicBoolean bodyRead = new AtomicBoolean();
    return Mono.defer(
            () -> {
              UpstreamNode node = upstream.pick(ctx, tried, n -> true);
              if (node == null) {
                LOG.warn(
                    "route '{}': {} has no node with a positive weight", routeId, upstream.name());
                return error(response, HttpResponseStatus.BAD_GATEWAY, "502 Bad Gateway");
              }
              tried.add(node);
              nodeName.set(node.authority());
              return attempt(request, response, uri, upstream, node, bodyRead)
                  .doFinally(signal -> upstream.release(node))
                  .onErrorResume(
                      AttemptFailed.class,
                      failed -> {
                        Throwable cause = failed.getCause();
                        boolean retry =
                            !failed.responseStarted
                                && !bodyRead.get()
                                && !isReadTimeout(cause)
                                && tried.size() <= upstream.retries()
                                && System.nanoTime() < deadline;
                        LOG.warn(
                            "route '{}': upstream {} {}{}: {}",
                            routeId,
                            node.authority(),
                            isTimeout(cause) ? "timed out" : "failed",
                            retry ? ", trying another node" : "",
                            cause.toString());
                        return retry
                            ? Mono.error(new RetryNext())
                            : answerFailure(response, failed);
                      });
            })
        .retryWhen(Retry.indefinitely().filter(RetryNext.class::isInstance));
  }

  /** One try on one node; failures come wrapped in {@link AttemptFailed}. */
  private Mono<Void> attempt(
      HttpServerRequest request,
      HttpServerResponse response,
      String uri,
      Upstream upstream,
      UpstreamNode node,
      AtomicBoolean bodyRead) {
    UpstreamTimeouts timeouts = upstream.timeouts();
    boolean hasLength = request.requestHeaders().contains(HttpHeaderNames.CONTENT_LENGTH);
    boolean chunked =
        !hasLength && request.requestHeaders().contains(HttpHeaderNames.TRANSFER_ENCODING);
    AtomicBoolean responseStarted = new AtomicBoolean();
    return clientFor(upstream)
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
              if (!hasLength && !chunked) {
                return Mono.empty();
              }
              // Once a byte of the body has left the inbound, it cannot be sent to another node.
              return out.send(request.receive().retain().doOnNext(buf -> bodyRead.set(true)));
            })
        .response(
            (upstreamResponse, body) -> {
              responseStarted.set(true);
              response.status(upstreamResponse.status());
              HopByHop.copyEndToEnd(upstreamResponse.responseHeaders(), response.responseHeaders());
              return response.send(body.retain());
            })
        .then()
        .onErrorMap(failure -> new AttemptFailed(failure, responseStarted.get()));
  }

  /** The answer when no further node will be tried. */
  private static Mono<Void> answerFailure(HttpServerResponse response, AttemptFailed failed) {
    if (response.hasSentHeaders()) {
      // Too late for an error page: failing the exchange closes the client connection.
      return Mono.error(failed.getCause());
    }
    return isTimeout(failed.getCause())
        ? error(response, HttpResponseStatus.GATEWAY_TIMEOUT, "504 Gateway Timeout")
        : error(response, HttpResponseStatus.BAD_GATEWAY, "502 Bad Gateway");
  }

  /** A failed attempt and whether the upstream had started its response (then no retry). */
  private static final class AttemptFailed extends RuntimeException {
    final boolean responseStarted;

    AttemptFailed(Throwable cause, boolean responseStarted) {
      super(cause.toString(), cause, false, false);
      this.responseStarted = responseStarted;
    }
  }

  /** Signals {@link #forward}'s loop to pick another node. */
  private static final class RetryNext extends RuntimeException {
    RetryNext() {
      super("retry", null, false, false);
    }
  }

  /**
   * The client for an upstream: its keepalive pool (falling back to the proxy's options), connect
   * timeout and TLS. Upstream certificates are not verified, like APISIX's default {@code
   * tls.verify: false}.
   */
  private HttpClient clientFor(Upstream upstream) {
    KeepalivePool pool =
        upstream.keepalivePool() != null
            ? upstream.keepalivePool()
            : new KeepalivePool(
                options.maxConnectionsPerNode(),
                options.maxIdleTime(),
                KeepalivePool.DEFAULT.requests());
    ClientKey key =
        new ClientKey(pool, upstream.timeouts().connect(), upstream.scheme().equals("https"));
    return clients.computeIfAbsent(key, this::newClient);
  }

  /** Clients differ by pool, connect timeout (a channel option) and TLS; few combinations exist. */
  private record ClientKey(KeepalivePool pool, Duration connectTimeout, boolean tls) {}

  private HttpClient newClient(ClientKey key) {
    ConnectionProvider provider = providers.computeIfAbsent(key.pool(), this::newProvider);
    HttpClient built =
        HttpClient.create(provider)
            .followRedirect(false)
            .compress(false)
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int) Math.min(Integer.MAX_VALUE, key.connectTimeout().toMillis()));
    if (key.tls()) {
      built =
          built.secure(
              spec ->
                  spec.sslContext(
                      Http11SslContextSpec.forClient()
                          .configure(
                              ssl -> ssl.trustManager(InsecureTrustManagerFactory.INSTANCE))));
    }
    return built;
  }

  private ConnectionProvider newProvider(KeepalivePool pool) {
    long idleMillis = pool.idleTimeout().toMillis();
    ConnectionProvider.Builder builder =
        ConnectionProvider.builder("ballast-proxy")
            .maxConnections(pool.size())
            .pendingAcquireTimeout(options.pendingAcquireTimeout())
            // Replaces maxIdleTime: retire a connection after its last allowed request (nginx's
            // keepalive_requests) or once idle too long. Checked when a connection is released,
            // acquired and by the background sweep.
            .evictionPredicate(
                (connection, meta) ->
                    meta.acquireCount() >= pool.requests() || meta.idleTime() >= idleMillis)
            // Pools are per upstream address; drop those of nodes no longer configured.
            .disposeInactivePoolsInBackground(
                options.maxIdleTime(), options.maxIdleTime().multipliedBy(2));
    if (idleMillis > 0) {
      builder.evictInBackground(pool.idleTimeout());
    }
    return builder.build();
  }

  private static boolean isReadTimeout(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof ReadTimeoutException) {
        return true;
      }
    }
    return false;
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
