package io.ballast.gateway.health;

import io.ballast.resource.HealthCheckConfig;
import io.ballast.resource.UpstreamNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The health checkers of all upstreams with {@code checks}, kept across configuration swaps. APISIX
 * keys its checkers by upstream id and version and so forgets health on any change; here a swap
 * that keeps an upstream's key and checks keeps its checker, its counters and its probe timers, and
 * only a changed {@code checks} starts over.
 */
public final class HealthCheckers implements AutoCloseable {

  /** What to check for one upstream. */
  public record Target(HealthCheckConfig config, List<UpstreamNode> nodes) {

    public Target {
      Objects.requireNonNull(config, "config");
      nodes = List.copyOf(nodes);
    }
  }

  private final Scheduler scheduler;

  /** Replaced whole on each reconcile, so the proxy reads it without a lock. */
  private volatile Map<String, HealthChecker> checkers = Map.of();

  private boolean closed;

  /** Probe timers run on {@code scheduler}; they only start non-blocking probes. */
  public HealthCheckers(Scheduler scheduler) {
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
  }

  public HealthCheckers() {
    this(Schedulers.parallel());
  }

  /**
   * Makes {@code targets} the checked upstreams; call it with every new route table. Keys name the
   * upstream as logs should, e.g. {@code upstream 'u1'} or {@code route 'r1'} for an inline one. A
   * key with the same checks keeps its checker (nodes are updated in place); a key with other
   * checks gets a new one; keys no longer present are stopped.
   */
  public synchronized void reconcile(Map<String, Target> targets) {
    if (closed) {
      throw new IllegalStateException("health checkers are closed");
    }
    Map<String, HealthChecker> previous = checkers;
    Map<String, HealthChecker> next = new HashMap<>();
    for (Map.Entry<String, Target> entry : targets.entrySet()) {
      String key = entry.getKey();
      Target target = entry.getValue();
      HealthChecker checker = previous.get(key);
      if (checker == null || !checker.config().equals(target.config())) {
        checker = new HealthChecker(key, target.config(), scheduler);
      }
      checker.setNodes(target.nodes());
      next.put(key, checker);
    }
    checkers = Map.copyOf(next);
    for (Map.Entry<String, HealthChecker> entry : previous.entrySet()) {
      if (next.get(entry.getKey()) != entry.getValue()) {
        entry.getValue().stop();
      }
    }
  }

  /** The checker for an upstream key, empty when it has no {@code checks}. */
  public Optional<HealthChecker> checker(String key) {
    return Optional.ofNullable(checkers.get(key));
  }

  /** Stops all probing. */
  @Override
  public synchronized void close() {
    closed = true;
    checkers.values().forEach(HealthChecker::stop);
    checkers = Map.of();
  }
}
