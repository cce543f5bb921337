package io.ballast.gateway.proxy;

import io.ballast.gateway.health.HealthChecker;
import io.ballast.gateway.health.HealthCheckers;
import io.ballast.gateway.http.RouteRequest;
import io.ballast.gateway.plugin.Consumer;
import io.ballast.gateway.plugin.Exchange;
import io.ballast.gateway.plugin.PluginChain;
import io.ballast.gateway.plugin.PluginRunner;
import io.ballast.gateway.route.RouteMatch;
import io.ballast.gateway.route.RouteTable;
import io.ballast.gateway.tls.HandshakeFailureLog;
import io.ballast.gateway.tls.SniMapping;
import io.ballast.gateway.upstream.BalanceContext;
import io.ballast.gateway.upstream.Upstream;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.function.Supplier;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.NettyPipeline;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.resources.LoopResources;

/**
 * The data-plane HTTP proxy: Reactor Netty server in front, Reactor Netty clients behind ({@link
 * UpstreamClients}). Each request reads the current {@link RouteTable} once, so a configuration
 * swap never changes the route of a request in flight; after its plugins, it goes to the upstream
 * through {@link Forwarder}, or through {@link WebSocketProxy} for an upgrade. Bodies are streamed
 * both ways, never aggregated.
 *
 * <p>Errors are APISIX-style JSON: 404 without a route, 503 without an upstream, 502 when the
 * upstream cannot be reached or fails before its response starts, 504 on a connect or read timeout.
 * One access-log line per request goes to the {@code ballast.access} logger ({@link AccessLog}).
 */
public final class ProxyServer implements Disposable {

  private final Supplier<RouteTable> currentTable;

  private volatile boolean disposed;

  private final List<DisposableServer> servers = new CopyOnWriteArrayList<>();

  private final HealthCheckers health = new HealthCheckers();

  /**
   * The proxy's own event loops ({@code nginx_config.worker_processes}), for its listeners and its
   * upstream clients. Reactor Netty opens a new upstream connection on the loop of the request that
   * needs it; a pooled one may belong to another loop.
   */
  private final LoopResources loops;

  private final UpstreamClients clients;
  private final Forwarder forwarder;
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
    Objects.requireNonNull(options, "options");
    this.requestCounter = Objects.requireNonNull(requestCounter, "requestCounter");
    this.loops = LoopResources.create("ballast-proxy", options.eventLoops(), true);
    this.clients = new UpstreamClients(loops, options);
    Function<Upstream, HealthChecker> checkers =
        upstream -> health.checker(upstream.name()).orElse(null);
    this.forwarder = new Forwarder(clients, checkers);
    this.webSockets = new WebSocketProxy(clients, checkers);
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
    clients.dispose();
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
                            ? Replies.send(response, exchange, plugins, reply.get())
                            : proceed(request, response, match, exchange, plugins));
    return handled.doFinally(
        signal -> {
          exchange.status(AccessLog.loggedStatus(response, signal));
          plugins.log(exchange);
          AccessLog.log(method, path, exchange);
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
      return Replies.send(response, exchange, plugins, Replies.error(404, "404 Route Not Found"));
    }
    if (match.upstream().isEmpty()) {
      return Replies.send(
          response,
          exchange,
          plugins,
          Replies.error(503, "no upstream for route '" + match.routeId() + "'"));
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
    return forwarder.forward(request, response, match.upstream().get(), ctx, exchange, plugins);
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
}
