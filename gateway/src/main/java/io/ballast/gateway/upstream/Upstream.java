package io.ballast.gateway.upstream;

import io.ballast.resource.HealthCheckConfig;
import io.ballast.resource.KeepalivePool;
import io.ballast.resource.PassHost;
import io.ballast.resource.UpstreamNode;
import io.ballast.resource.UpstreamSpec;
import io.ballast.resource.UpstreamTimeouts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A compiled APISIX upstream: where to send requests and how. Holds the balancers of its upstream
 * resource, one per node priority, so all routes using the resource share their state (round-robin
 * position, connections in flight).
 *
 * <p>Upstream TLS ({@code scheme: https}) is not verified, as APISIX's default ({@code tls.verify}
 * false): upstreams are usually addressed by IP and carry internal or self-signed certificates.
 */
public final class Upstream {

  private final String name;
  private final UpstreamSpec spec;

  /** Balancers by node priority, highest first. */
  private final List<Balancer> levels;

  private Upstream(String name, UpstreamSpec spec, Function<List<UpstreamNode>, Balancer> type) {
    this.name = name;
    this.spec = spec;
    TreeMap<Integer, List<UpstreamNode>> byPriority = new TreeMap<>(Comparator.reverseOrder());
    for (UpstreamNode node : spec.nodes()) {
      byPriority.computeIfAbsent(node.priority(), p -> new ArrayList<>()).add(node);
    }
    this.levels = byPriority.values().stream().map(type).toList();
  }

  /**
   * Builds the upstream {@code spec} describes, with fresh balancers.
   *
   * @param name how logs and health checks name it, e.g. {@code upstream 'u1'} or, for one inline
   *     in a route, {@code route 'r1'}
   */
  public static Upstream compile(UpstreamSpec spec, String name) {
    Function<List<UpstreamNode>, Balancer> balancerType =
        switch (spec.type()) {
          case ROUNDROBIN -> SmoothWeightedRoundRobin::new;
          // APISIX's ewma prefers the node with the lowest recent latency; until latencies are
          // measured, fewest requests in flight is the nearest measure of the same load.
          case LEAST_CONN, EWMA -> LeastConnections::new;
          case CHASH -> {
            HashKey key = new HashKey(spec.hashOn(), spec.hashKey());
            yield nodes -> new ConsistentHash(nodes, key);
          }
        };
    return new Upstream(name, spec, balancerType);
  }

  /** The next node for a request without context; empty when no node has a positive weight. */
  public Optional<UpstreamNode> pick() {
    return Optional.ofNullable(pick(BalanceContext.none(), Set.of(), node -> true));
  }

  /**
   * The node for the next attempt of a request, or {@code null} when no node has a positive weight.
   * Nodes of the highest priority come first; a lower priority serves only once every higher node
   * was {@code tried}. When no untried node is {@code usable} (health checks), any untried node is
   * taken, as APISIX does; when every node was tried, the round starts over.
   *
   * <p>The caller hands the node back to {@link #release} when the attempt ends.
   */
  public UpstreamNode pick(
      BalanceContext ctx, Set<UpstreamNode> tried, Predicate<UpstreamNode> usable) {
    UpstreamNode node = pickByPriority(ctx, n -> !tried.contains(n) && usable.test(n));
    if (node == null) {
      node = pickByPriority(ctx, n -> !tried.contains(n));
    }
    return node != null ? node : pickByPriority(ctx, n -> true);
  }

  private UpstreamNode pickByPriority(BalanceContext ctx, Predicate<UpstreamNode> eligible) {
    for (Balancer level : levels) {
      UpstreamNode node = level.pick(ctx, eligible);
      if (node != null) {
        return node;
      }
    }
    return null;
  }

  /** The attempt on {@code node}, from {@link #pick}, has ended (however it ended). */
  public void release(UpstreamNode node) {
    for (Balancer level : levels) {
      level.release(node);
    }
  }

  /** Balancers by priority, highest first; for tests. */
  public List<Balancer> balancers() {
    return levels;
  }

  /** How many more nodes a request may try after its first fails; 0 disables retries. */
  public int retries() {
    return spec.retries();
  }

  /** The time budget for retrying a request; {@link Duration#ZERO} for none. */
  public Duration retryTimeout() {
    return spec.retryTimeout();
  }

  /** The upstream's own {@code keepalive_pool}, or {@code null} for the proxy's defaults. */
  public KeepalivePool keepalivePool() {
    return spec.keepalivePool();
  }

  /** APISIX's {@code checks}: active and passive health checks; {@code null} without. */
  public HealthCheckConfig checks() {
    return spec.checks();
  }

  /** How messages name this upstream, e.g. {@code upstream 'u1'} or {@code route 'r1'}. */
  public String name() {
    return name;
  }

  /** {@code http} or {@code https}. */
  public String scheme() {
    return spec.scheme();
  }

  public List<UpstreamNode> nodes() {
    return spec.nodes();
  }

  public UpstreamTimeouts timeouts() {
    return spec.timeouts();
  }

  public PassHost passHost() {
    return spec.passHost();
  }

  /** The Host header for {@link PassHost#REWRITE}; {@code null} otherwise unless configured. */
  public String upstreamHost() {
    return spec.upstreamHost();
  }

  @Override
  public String toString() {
    return name + " " + spec.scheme() + " " + spec.nodes();
  }
}
