package io.ballast.service.proxy;

import io.ballast.service.plugin.Consumer;
import io.ballast.service.plugin.Exchange;
import io.ballast.service.plugin.PluginChain;
import io.ballast.service.plugin.PluginRunner;
import io.ballast.service.plugin.Reply;
import io.ballast.service.plugin.ResponseHead;
import io.ballast.service.proxy.health.HealthChecker;
import io.ballast.service.proxy.health.HealthCheckers;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.handler.timeout.WriteTimeoutHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
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

  private final HealthCheckers health = new HealthCheckers();

  private final WebSocketProxy webSockets =
      new WebSocketProxy(upstream -> health.checker(upstream.name()).orElse(null));

  /** The table whose health-checked upstreams {@link #health} probes. */
  private volatile RouteTable checkedTable;

  /** Counts every request, matched or not (prometheus's apisix_http_requests_total). */
  private final Runnable requestCounter;

  public ProxyServer(Supplier<RouteTable> currentTable, ProxyOptions options) {
    this(currentTable, options, () -> {});
  }

  public ProxyServer(
      Supplier<RouteTable> currentTable, ProxyOptions options, Runnable requestCounter) {
    this.currentTable = Objects.requireNonNull(currentTable, "currentTable");
    this.options = Objects.requireNonNull(options, "options");
    this.requestCounter = Objects.requireNonNull(requestCounter, "requestCounter");
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
    health.close();
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
    requestCounter.run();
    String uri = originForm(request.uri());
    int queryStart = uri.indexOf('?');
    String path = queryStart < 0 ? uri : uri.substring(0, queryStart);
    String method = request.method().name();

    RouteTable table = currentTable.get();
    if (table != checkedTable) {
      followHealthChecks(table);
    }
    RouteRequest routeRequest = new NettyRouteRequest(request, method, uri, path);
    RouteMatch match = table.match(routeRequest).orElse(null);
    HttpHeaders upstreamHeaders = new DefaultHttpHeaders();
    HopByHop.copyEndToEnd(request.requestHeaders(), upstreamHeaders);
    // The server already answered any 100-continue; the upstream must not answer again.
    upstreamHeaders.remove(HttpHeaderNames.EXPECT);
    Exchange exchange =
        new Exchange(
            routeRequest,
            uri,
            request.scheme(),
            upstreamHeaders,
            match == null ? null : match.routeId(),
            match == null ? null : match.serviceId(),
            startNanos);
    PluginRunner plugins =
        new PluginRunner(
            table.globalPlugins(), match == null ? PluginChain.EMPTY : match.plugins());
    Mono<Void> handled =
        plugins.isEmpty()
            ? proceed(request, response, match, exchange, plugins)
            : plugins
                .request(exchange)
                .map(Optional::of)
                .defaultIfEmpty(Optional.empty())
                .flatMap(
                    reply ->
                        reply.isPresent()
                            ? send(response, exchange, plugins, reply.get())
                            : proceed(request, response, match, exchange, plugins));
    return handled.doFinally(
        signal -> {
          exchange.status(loggedStatus(response, signal));
          plugins.log(exchange);
          logAccess(method, path, exchange);
        });
  }

  /**
   * Starts probing the upstreams of a new table and stops probing those it dropped; upstreams it
   * keeps unchanged keep their health. Done by the first request on a new table, once.
   */
  private synchronized void followHealthChecks(RouteTable table) {
    if (table == checkedTable) {
      return;
    }
    Map<String, HealthCheckers.Target> targets = new HashMap<>();
    for (Upstream upstream : table.checkedUpstreams()) {
      targets.put(upstream.name(), new HealthCheckers.Target(upstream.checks(), upstream.nodes()));
    }
    health.reconcile(targets);
    checkedTable = table;
  }

  /** After the plugins let the request through: to the route's upstream, or an error. */
  private Mono<Void> proceed(
      HttpServerRequest request,
      HttpServerResponse response,
      RouteMatch match,
      Exchange exchange,
      PluginRunner plugins) {
    if (match == null) {
      return send(response, exchange, plugins, errorReply(404, "404 Route Not Found"));
    }
    if (match.upstream().isEmpty()) {
      return send(
          response,
          exchange,
          plugins,
          errorReply(503, "no upstream for route '" + match.routeId() + "'"));
    }
    Consumer consumer = exchange.consumer();
    BalanceContext ctx =
        new BalanceContext(
            exchange.request(),
            exchange.requestUri(),
            consumer == null ? null : consumer.username());
    if (match.websocket() && WebSocketProxy.isUpgrade(request)) {
      return webSockets.proxy(request, response, match.upstream().get(), ctx, exchange, plugins);
    }
    return forward(request, response, match.upstream().get(), ctx, exchange, plugins);
  }

  /** Sends a reply made by a plugin or the gateway, after the plugins have seen its head. */
  static Mono<Void> send(
      HttpServerResponse response, Exchange exchange, PluginRunner plugins, Reply reply) {
    ResponseHead head = new ResponseHead(reply.status(), reply.headers(), false);
    head.headers().set(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(reply.body().length));
    plugins.responseHead(exchange, head);
    byte[] body = head.replacementBody() != null ? head.replacementBody() : reply.body();
    exchange.addBytesSent(body.length);
    response.status(head.status());
    response.headers(head.headers());
    return body.length == 0 ? response.send() : response.sendByteArray(Mono.just(body)).then();
  }

  static Reply errorReply(int status, String message) {
    return Reply.json(status, Map.of("error_msg", message));
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
      Upstream upstream,
      BalanceContext ctx,
      Exchange exchange,
      PluginRunner plugins) {
    String routeId = exchange.routeId();
    Set<UpstreamNode> tried = new HashSet<>();
    long deadline =
        upstream.retryTimeout().isZero()
            ? Long.MAX_VALUE
            : System.nanoTime() + upstream.retryTimeout().toNanos();
    AtomicBoolean bodyRead = new AtomicBoolean();
    HealthChecker checker =
        upstream.checks() == null ? null : health.checker(upstream.name()).orElse(null);
    Predicate<UpstreamNode> usable = checker == null ? node -> true : checker::isHealthy;
    return Mono.defer(
            () -> {
              UpstreamNode node = upstream.pick(ctx, tried, usable);
              if (node == null) {
                LOG.warn(
                    "route '{}': {} has no node with a positive weight", routeId, upstream.name());
                return send(response, exchange, plugins, errorReply(502, "502 Bad Gateway"));
              }
              tried.add(node);
              exchange.upstreamNode(node.authority());
              return attempt(
                      request, response, upstream, node, bodyRead, checker, exchange, plugins)
                  .doFinally(signal -> upstream.release(node))
                  .onErrorResume(
                      AttemptFailed.class,
                      failed -> {
                        Throwable cause = failed.getCause();
                        if (checker != null && !failed.responseStarted) {
                          if (isTimeout(cause)) {
                            checker.reportTimeout(node);
                          } else {
                            checker.reportTcpFailure(node);
                          }
                        }
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
                            : answerFailure(response, failed, exchange, plugins);
                      });
            })
        .retryWhen(Retry.indefinitely().filter(RetryNext.class::isInstance));
  }

  /** One try on one node; failures come wrapped in {@link AttemptFailed}. */
  private Mono<Void> attempt(
      HttpServerRequest request,
      HttpServerResponse response,
      Upstream upstream,
      UpstreamNode node,
      AtomicBoolean bodyRead,
      HealthChecker checker,
      Exchange exchange,
      PluginRunner plugins) {
    UpstreamTimeouts timeouts = upstream.timeouts();
    boolean hasLength = request.requestHeaders().contains(HttpHeaderNames.CONTENT_LENGTH);
    boolean chunked =
        !hasLength && request.requestHeaders().contains(HttpHeaderNames.TRANSFER_ENCODING);
    AtomicBoolean responseStarted = new AtomicBoolean();
    long sentNanos = System.nanoTime();
    return clientFor(upstream)
        .request(HttpMethod.valueOf(exchange.upstreamMethod()))
        .uri(upstream.scheme() + "://" + node.authority() + exchange.upstreamUri())
        .send(
            (upstreamRequest, out) -> {
              HttpHeaders headers = upstreamRequest.requestHeaders();
              // Replace the client's defaults (user-agent, accept) with what the caller sent, as
              // the plugins left it.
              headers.clear();
              headers.add(exchange.upstreamHeaders());
              headers.set(
                  HttpHeaderNames.HOST,
                  exchange.upstreamHost() != null
                      ? exchange.upstreamHost()
                      : upstreamHost(request, upstream, node));
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
              exchange.upstreamNanos(System.nanoTime() - sentNanos);
              if (checker != null) {
                checker.reportHttpStatus(node, upstreamResponse.status().code());
              }
              HttpHeaders headers = new DefaultHttpHeaders();
              HopByHop.copyEndToEnd(upstreamResponse.responseHeaders(), headers);
              ResponseHead head = new ResponseHead(upstreamResponse.status().code(), headers, true);
              plugins.responseHead(exchange, head);
              response.status(head.status());
              response.headers(head.headers());
              if (head.replacementBody() != null) {
                // The upstream's body is left unread; its connection is closed, not reused.
                exchange.addBytesSent(head.replacementBody().length);
                return response.sendByteArray(Mono.just(head.replacementBody()));
              }
              return response.send(
                  body.retain().doOnNext(buf -> exchange.addBytesSent(buf.readableBytes())));
            })
        .then()
        .onErrorMap(failure -> new AttemptFailed(failure, responseStarted.get()));
  }

  /** The answer when no further node will be tried. */
  private static Mono<Void> answerFailure(
      HttpServerResponse response, AttemptFailed failed, Exchange exchange, PluginRunner plugins) {
    if (response.hasSentHeaders()) {
      // Too late for an error page: failing the exchange closes the client connection.
      return Mono.error(failed.getCause());
    }
    return isTimeout(failed.getCause())
        ? send(response, exchange, plugins, errorReply(504, "504 Gateway Timeout"))
        : send(response, exchange, plugins, errorReply(502, "502 Bad Gateway"));
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

  static String upstreamHost(HttpServerRequest request, Upstream upstream, UpstreamNode node) {
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

  static void addForwardedHeaders(HttpServerRequest request, HttpHeaders headers) {
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

  static boolean isTimeout(Throwable failure) {
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

  /**
   * The status the client got. Like nginx: 499 only when the client left before the response
   * started; Reactor Netty may also cancel an exchange whose response it has completed, so a cancel
   * alone says nothing.
   */
  private static int loggedStatus(HttpServerResponse response, SignalType signal) {
    return signal == SignalType.CANCEL && !response.hasSentHeaders()
        ? CLIENT_CLOSED
        : response.status().code();
  }

  private static void logAccess(String method, String path, Exchange exchange) {
    if (!ACCESS.isInfoEnabled()) {
      return;
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - exchange.startNanos());
    String routeId = exchange.routeId() == null ? "-" : exchange.routeId();
    String node = exchange.upstreamNode() == null ? "-" : exchange.upstreamNode();
    long upstreamMillis =
        exchange.upstreamNanos() < 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(exchange.upstreamNanos());
    // No query string, headers or bodies: they may carry credentials.
    ACCESS.info(
        "{} {} {} route={} upstream={} {}ms upstream_time={}ms",
        method,
        path,
        exchange.status(),
        routeId,
        node,
        millis,
        upstreamMillis);
  }
}
