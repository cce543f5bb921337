package io.ballast.gateway.proxy;

import io.ballast.gateway.health.HealthChecker;
import io.ballast.gateway.health.HealthCheckers;
import io.ballast.gateway.http.HopByHop;
import io.ballast.gateway.http.RouteRequest;
import io.ballast.gateway.plugin.Consumer;
import io.ballast.gateway.plugin.Exchange;
import io.ballast.gateway.plugin.PluginChain;
import io.ballast.gateway.plugin.PluginRunner;
import io.ballast.gateway.plugin.Reply;
import io.ballast.gateway.plugin.ResponseHead;
import io.ballast.gateway.route.RouteMatch;
import io.ballast.gateway.route.RouteTable;
import io.ballast.gateway.tls.HandshakeFailureLog;
import io.ballast.gateway.tls.SniMapping;
import io.ballast.gateway.upstream.BalanceContext;
import io.ballast.gateway.upstream.KeepalivePool;
import io.ballast.gateway.upstream.Upstream;
import io.ballast.gateway.upstream.UpstreamNode;
import io.ballast.gateway.upstream.UpstreamTimeouts;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.handler.timeout.WriteTimeoutHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.netty.DisposableServer;
import reactor.netty.NettyPipeline;
import reactor.netty.channel.AbortedException;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.PrematureCloseException;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;

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

  private final List<DisposableServer> servers = new CopyOnWriteArrayList<>();

  private final HealthCheckers health = new HealthCheckers();

  /**
   * The proxy's own event loops ({@code nginx_config.worker_processes}), for its listeners and its
   * upstream clients. Reactor Netty opens a new upstream connection on the loop of the request that
   * needs it; a pooled one may belong to another loop.
   */
  private final LoopResources loops;

  private final WebSocketProxy webSockets;

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
    this.loops = LoopResources.create("ballast-proxy", options.eventLoops(), true);
    this.webSockets =
        new WebSocketProxy(loops, upstream -> health.checker(upstream.name()).orElse(null));
  }

  /** Binds the proxy; port 0 picks a free port (see {@link DisposableServer#port()}). */
  public Mono<DisposableServer> start(String host, int port) {
    return HttpServer.create()
        .runOn(loops)
        .host(host)
        .port(port)
        .handle(this::handle)
        .bind()
        .cast(DisposableServer.class)
        .doOnNext(servers::add);
  }

  /**
   * Binds a TLS listener. Each handshake takes its certificate from the current table's {@link
   * RouteTable#certificates()} by the client's SNI (see {@link SniMapping}), so a swap changes
   * certificates without rebinding. With {@code http2}, clients may pick h2 through ALPN; upstream
   * requests stay HTTP/1.1 either way.
   *
   * @param fallbackSni the name whose certificate a client without SNI gets; {@code null} for none
   */
  public Mono<DisposableServer> startTls(String host, int port, boolean http2, String fallbackSni) {
    SniMapping mapping =
        new SniMapping(() -> currentTable.get().certificates(), fallbackSni, http2);
    HttpProtocol[] protocols =
        http2
            ? new HttpProtocol[] {HttpProtocol.HTTP11, HttpProtocol.H2}
            : new HttpProtocol[] {HttpProtocol.HTTP11};
    return HttpServer.create()
        .runOn(loops)
        .host(host)
        .port(port)
        .protocol(protocols)
        .secure(spec -> spec.sslContext(mapping.placeholder()).setSniAsyncMappings(mapping))
        .doOnChannelInit(
            (observer, channel, remote) ->
                channel
                    .pipeline()
                    .addAfter(
                        NettyPipeline.SslHandler,
                        "ballast.tlsFailureLog",
                        new HandshakeFailureLog()))
        .handle(this::handle)
        .bind()
        .cast(DisposableServer.class)
        .doOnNext(servers::add);
  }

  /**
   * Stops accepting, closes the listening sockets and the upstream connection pools, and ends the
   * event loops.
   */
  public void stop() {
    servers.forEach(DisposableServer::disposeNow);
    disposed = true;
    health.close();
    providers.values().forEach(ConnectionProvider::dispose);
    // No quiet period: nothing is accepted any more, and tests stop many proxies.
    loops.disposeLater(Duration.ZERO, Duration.ofSeconds(5)).block(Duration.ofSeconds(10));
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
    Exchange exchange =
        new Exchange(
            routeRequest,
            uri,
            request.scheme(),
            request.requestHeaders(),
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
   * more nodes, within {@link Upstream#retryTimeout} when set.
   */
  private Mono<Void> forward(
      HttpServerRequest request,
      HttpServerResponse response,
      Upstream upstream,
      BalanceContext ctx,
      Exchange exchange,
      PluginRunner plugins) {
    HealthChecker checker =
        upstream.checks() == null ? null : health.checker(upstream.name()).orElse(null);
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
      return send(f.response(), f.exchange(), f.plugins(), errorReply(502, "502 Bad Gateway"));
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
                  && safeToResend(cause, f.exchange().upstreamMethod())
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
                if (isTimeout(cause)) {
                  f.checker().reportTimeout(node);
                } else {
                  f.checker().reportTcpFailure(node);
                }
              }
              boolean retry =
                  !failed.responseStarted
                      && !failed.bodyRead
                      && !isReadTimeout(cause)
                      && f.tried().size() <= f.upstream().retries()
                      && System.nanoTime() < f.deadline();
              LOG.warn(
                  "route '{}': upstream {} {}{}: {}",
                  f.exchange().routeId(),
                  node.authority(),
                  isTimeout(cause) ? "timed out" : "failed",
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
    return clientFor(upstream)
        .request(HttpMethod.valueOf(exchange.upstreamMethod()))
        .uri(upstream.scheme() + "://" + node.authority() + exchange.upstreamUri())
        .send(
            (upstreamRequest, out) -> {
              HttpHeaders headers = upstreamRequest.requestHeaders();
              // Replace the client's defaults (user-agent, accept) with what the caller sent, as
              // the plugins left it.
              headers.clear();
              exchange.copyUpstreamHeadersTo(headers);
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
    return isTimeout(failed.getCause())
        ? send(response, exchange, plugins, errorReply(504, "504 Gateway Timeout"))
        : send(response, exchange, plugins, errorReply(502, "502 Bad Gateway"));
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
    return forUpstreams(HttpClient.create(provider), loops, key.connectTimeout(), key.tls());
  }

  /**
   * {@code client} set up to reach upstreams: on the proxy's event loops, no redirects followed, no
   * compression asked for, the connect timeout, and for TLS no certificate verification (APISIX's
   * default {@code tls.verify: false}).
   */
  static HttpClient forUpstreams(
      HttpClient client, LoopResources loops, Duration connectTimeout, boolean tls) {
    HttpClient built =
        client
            .runOn(loops)
            .followRedirect(false)
            .compress(false)
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
    if (tls) {
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

  private static final String CLOSED_BEFORE_SEND = AbortedException.beforeSend().getMessage();

  private static final Set<String> IDEMPOTENT =
      Set.of("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE");

  /** Reactor Netty's pool gives up with this after a few acquired connections were closed. */
  private static final String POOL_ACQUIRE_FAILED = "Error while acquiring from ";

  /**
   * Whether a request whose connection failed before any response may go out once more, not counted
   * against {@code retries}. A client that leaves mid-request takes its upstream connection down,
   * and the pool may have just handed that connection to another request. Always safe when nothing
   * was written (Reactor Netty's "closed BEFORE send", a write refused by a closed channel, or the
   * pool finding only closed connections); after a write only for idempotent methods, as nginx's
   * {@code proxy_next_upstream} never repeats a POST it has sent.
   */
  static boolean safeToResend(Throwable failure, String method) {
    if (failure instanceof IOException
        && String.valueOf(failure.getMessage()).startsWith(POOL_ACQUIRE_FAILED)) {
      return true;
    }
    if (failure instanceof AbortedException aborted) {
      return CLOSED_BEFORE_SEND.equals(aborted.getMessage())
          || aborted.getCause() instanceof ClosedChannelException;
    }
    return failure instanceof PrematureCloseException && IDEMPOTENT.contains(method);
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
    String host = RouteRequest.normalizeHost(request.requestHeaders().get(HttpHeaderNames.HOST));
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
