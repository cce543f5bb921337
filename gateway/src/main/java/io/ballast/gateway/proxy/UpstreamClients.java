package io.ballast.gateway.proxy;

import io.ballast.gateway.upstream.Upstream;
import io.ballast.resource.KeepalivePool;
import io.netty.channel.ChannelOption;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;

/**
 * The clients that reach upstreams, and their connection pools: built once per combination of
 * keepalive pool, connect timeout and TLS, kept for the proxy's life, all on the proxy's event
 * loops. Upstream certificates are not verified, like APISIX's default {@code tls.verify: false}.
 */
final class UpstreamClients {

  private final LoopResources loops;
  private final ProxyOptions options;

  /** One pool per distinct keepalive_pool setting; most configurations have one or two. */
  private final Map<KeepalivePool, ConnectionProvider> providers = new ConcurrentHashMap<>();

  private final Map<ClientKey, HttpClient> clients = new ConcurrentHashMap<>();

  /**
   * Clients differ by pool, connect timeout (a channel option) and TLS; few combinations exist.
   * {@code pool} is {@code null} for a client that opens a new connection for every request.
   */
  private record ClientKey(KeepalivePool pool, Duration connectTimeout, boolean tls) {}

  UpstreamClients(LoopResources loops, ProxyOptions options) {
    this.loops = loops;
    this.options = options;
  }

  /**
   * The client for HTTP requests to {@code upstream}: pooled by its keepalive pool (falling back to
   * the proxy's options), with its connect timeout and TLS.
   */
  HttpClient pooled(Upstream upstream) {
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

  /**
   * The client for WebSockets to {@code upstream}, with its connect timeout and TLS. Not pooled: a
   * socket may stay open for hours and must not hold a keepalive_pool slot.
   */
  HttpClient unpooled(Upstream upstream) {
    ClientKey key =
        new ClientKey(null, upstream.timeouts().connect(), upstream.scheme().equals("https"));
    return clients.computeIfAbsent(key, this::newClient);
  }

  /** Closes the connection pools. */
  void dispose() {
    providers.values().forEach(ConnectionProvider::dispose);
  }

  /**
   * A client set up to reach upstreams: on the proxy's event loops, no redirects followed, no
   * compression asked for, the connect timeout, and for TLS no certificate verification.
   */
  private HttpClient newClient(ClientKey key) {
    HttpClient built =
        (key.pool() == null
                ? HttpClient.newConnection()
                : HttpClient.create(providers.computeIfAbsent(key.pool(), this::newProvider)))
            .runOn(loops)
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
}
