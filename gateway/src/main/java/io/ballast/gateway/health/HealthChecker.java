package io.ballast.gateway.health;

import io.ballast.gateway.health.NodeHealth.Failure;
import io.ballast.resource.HealthCheckConfig;
import io.ballast.resource.HealthCheckConfig.Active;
import io.ballast.resource.HealthCheckConfig.Thresholds;
import io.ballast.resource.UpstreamNode;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.scheduler.Scheduler;

/**
 * The health of one upstream's nodes: active probes on a timer, passive reports from the proxy.
 * Nodes start healthy. Each node has at most one probe in flight and one probe per interval (the
 * healthy or unhealthy interval, by its state). A state change is logged once, at INFO.
 *
 * <p>Created and stopped by {@link HealthCheckers}; the proxy only reads and reports.
 */
public final class HealthChecker {

  private static final Logger LOG = LoggerFactory.getLogger(HealthChecker.class);

  private final String name;
  private final HealthCheckConfig config;
  private final Scheduler scheduler;
  private final Map<String, Target> targets = new ConcurrentHashMap<>();
  private volatile boolean stopped;

  /**
   * A probed node: its health, its prober and its one chain of timer, probe, timer... Reports from
   * the proxy can change the node's interval; they start a new chain (a new generation) and the old
   * one ends at its next step, so there is never more than one.
   */
  private static final class Target {
    final UpstreamNode node;
    final NodeHealth health = new NodeHealth();
    final Prober prober;
    private long generation; // guarded by this
    private boolean stopped; // guarded by this
    private Disposable pending = Disposables.disposed(); // guarded by this

    Target(UpstreamNode node, Active active) {
      this.node = node;
      this.prober = new Prober(active, node);
    }
  }

  HealthChecker(String name, HealthCheckConfig config, Scheduler scheduler) {
    this.name = Objects.requireNonNull(name, "name");
    this.config = Objects.requireNonNull(config, "config");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
  }

  /** How logs name the upstream, e.g. {@code upstream 'u1'}. */
  public String name() {
    return name;
  }

  public HealthCheckConfig config() {
    return config;
  }

  /** False only for a node this checker tracks and found unhealthy. */
  public boolean isHealthy(UpstreamNode node) {
    Target target = targets.get(node.authority());
    return target == null || target.health.isHealthy();
  }

  /**
   * A proxied response's status: a success or an HTTP failure when the passive checks list it,
   * nothing otherwise.
   */
  public void reportHttpStatus(UpstreamNode node, int status) {
    Target target = targets.get(node.authority());
    if (target != null) {
      if (countStatus(target, config.passive(), status)) {
        restart(target);
      }
    }
  }

  /** The proxy could not connect to, or lost the connection with, the node. */
  public void reportTcpFailure(UpstreamNode node) {
    Target target = targets.get(node.authority());
    if (target != null) {
      if (countFailure(target, Failure.TCP, config.passive().tcpFailures(), null)) {
        restart(target);
      }
    }
  }

  /** A proxied request to the node timed out. */
  public void reportTimeout(UpstreamNode node) {
    Target target = targets.get(node.authority());
    if (target != null) {
      if (countFailure(target, Failure.TIMEOUT, config.passive().timeouts(), null)) {
        restart(target);
      }
    }
  }

  /**
   * Makes {@code nodes} the probed set: nodes already known keep their health (matched by address,
   * whatever their weight), new ones start healthy, removed ones stop being probed.
   */
  synchronized void setNodes(List<UpstreamNode> nodes) {
    if (stopped) {
      return;
    }
    Map<String, UpstreamNode> wanted = new LinkedHashMap<>();
    for (UpstreamNode node : nodes) {
      wanted.putIfAbsent(node.authority(), node);
    }
    targets
        .entrySet()
        .removeIf(
            entry -> {
              boolean gone = !wanted.containsKey(entry.getKey());
              if (gone) {
                stop(entry.getValue());
              }
              return gone;
            });
    for (Map.Entry<String, UpstreamNode> entry : wanted.entrySet()) {
      if (!targets.containsKey(entry.getKey())) {
        Target target = new Target(entry.getValue(), config.active());
        targets.put(entry.getKey(), target);
        start(target);
      }
    }
  }

  /** Stops all probing; reports after this are still counted but nothing probes. */
  synchronized void stop() {
    stopped = true;
    targets.values().forEach(this::stop);
  }

  private Duration interval(Target target) {
    Active active = config.active();
    return target.health.isHealthy() ? active.healthyInterval() : active.unhealthyInterval();
  }

  private void start(Target target) {
    synchronized (target) {
      schedule(target, target.generation, interval(target));
    }
  }

  /** After a passive report changed the node's state: probe at the new state's interval. */
  private void restart(Target target) {
    synchronized (target) {
      target.generation++;
      target.pending.dispose();
      schedule(target, target.generation, interval(target));
    }
  }

  private void stop(Target target) {
    synchronized (target) {
      target.stopped = true;
      target.pending.dispose();
    }
  }

  private void schedule(Target target, long generation, Duration delay) {
    synchronized (target) {
      if (target.stopped || target.generation != generation) {
        return;
      }
      target.pending =
          scheduler.schedule(
              () -> probe(target, generation), delay.toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  private void probe(Target target, long generation) {
    long started = System.nanoTime();
    synchronized (target) {
      if (target.stopped || target.generation != generation) {
        return;
      }
      target.pending =
          target
              .prober
              .probe()
              .subscribe(
                  result -> {
                    countProbe(target, result);
                    // The interval runs from probe start to probe start, as a timer would.
                    Duration left = interval(target).minusNanos(System.nanoTime() - started);
                    schedule(target, generation, left.isNegative() ? Duration.ZERO : left);
                  });
    }
  }

  private void countProbe(Target target, Prober.Result result) {
    Thresholds active = config.active().thresholds();
    switch (result.kind()) {
      case STATUS -> countStatus(target, active, result.status());
      case CONNECTED -> countSuccess(target, active.successes());
      case TCP_FAILURE -> countFailure(target, Failure.TCP, active.tcpFailures(), null);
      case TIMEOUT -> countFailure(target, Failure.TIMEOUT, active.timeouts(), null);
    }
  }

  /** True when the status changed the node's state. */
  private boolean countStatus(Target target, Thresholds thresholds, int status) {
    if (thresholds.healthyStatuses().contains(status)) {
      return countSuccess(target, thresholds.successes());
    }
    if (thresholds.unhealthyStatuses().contains(status)) {
      return countFailure(target, Failure.HTTP, thresholds.httpFailures(), status);
    }
    return false;
  }

  private boolean countSuccess(Target target, int threshold) {
    boolean changed = target.health.success(threshold);
    if (changed) {
      LOG.info(
          "{} node {} healthy: {} success{}",
          name,
          target.node.authority(),
          threshold,
          threshold == 1 ? "" : "es");
    }
    return changed;
  }

  private boolean countFailure(Target target, Failure kind, int threshold, Integer lastStatus) {
    boolean changed = target.health.failure(kind, threshold);
    if (changed) {
      LOG.info(
          "{} node {} unhealthy: {}{}",
          name,
          target.node.authority(),
          kind.count(threshold),
          lastStatus == null ? "" : " (last status " + lastStatus + ")");
    }
    return changed;
  }
}
