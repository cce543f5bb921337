package io.ballast.gateway.proxy;

import java.time.Duration;
import java.util.Objects;

/**
 * Tuning of the proxy: its event loops and its upstream connection pool.
 *
 * @param eventLoops threads that serve clients and talk to upstreams, like nginx's worker processes
 *     (APISIX: {@code nginx_config.worker_processes}, {@code auto}: one per CPU)
 * @param maxConnectionsPerNode keep-alive connections per upstream address (APISIX's keepalive pool
 *     size is 320)
 * @param maxIdleTime how long an idle connection stays in the pool (APISIX: 60 s)
 * @param pendingAcquireTimeout how long a request waits for a pooled connection when all are busy
 *     before it fails with 504
 */
public record ProxyOptions(
    int eventLoops,
    int maxConnectionsPerNode,
    Duration maxIdleTime,
    Duration pendingAcquireTimeout) {

  public ProxyOptions {
    if (eventLoops < 1) {
      throw new IllegalArgumentException("eventLoops must be at least 1, got " + eventLoops);
    }
    Objects.requireNonNull(maxIdleTime, "maxIdleTime");
    Objects.requireNonNull(pendingAcquireTimeout, "pendingAcquireTimeout");
    if (maxConnectionsPerNode < 1) {
      throw new IllegalArgumentException(
          "maxConnectionsPerNode must be at least 1, got " + maxConnectionsPerNode);
    }
    if (maxIdleTime.isNegative() || maxIdleTime.isZero()) {
      throw new IllegalArgumentException("maxIdleTime must be positive, got " + maxIdleTime);
    }
    if (pendingAcquireTimeout.isNegative() || pendingAcquireTimeout.isZero()) {
      throw new IllegalArgumentException(
          "pendingAcquireTimeout must be positive, got " + pendingAcquireTimeout);
    }
  }

  public static ProxyOptions defaults() {
    return new ProxyOptions(
        Runtime.getRuntime().availableProcessors(),
        320,
        Duration.ofSeconds(60),
        Duration.ofSeconds(60));
  }

  public ProxyOptions withEventLoops(int count) {
    return new ProxyOptions(count, maxConnectionsPerNode, maxIdleTime, pendingAcquireTimeout);
  }
}
