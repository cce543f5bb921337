package io.ballast.service.proxy.health;

import io.ballast.service.proxy.UpstreamNode;
import io.ballast.service.proxy.health.HealthCheckConfig.Active;
import io.ballast.service.proxy.health.HealthCheckConfig.Thresholds;
import io.ballast.service.proxy.health.NodeHealth.Failure;
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

  /** A probed node: its health, its prober and its pending timer or probe. */
  private static final class Target {
    final UpstreamNode node;
    final NodeHealth health = new NodeHealth();
    final Prober prober;
    final Disposable.Swap task = Disposables.swap();

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
      countStatus(target, config.passive(), status);
    }
  }

  /** The proxy could not connect to, or lost the connection with, the node. */
  public void reportTcpFailure(UpstreamNode node) {
    Target target = targets.get(node.authority());
    if (target != null) {
      countFailure(target, Failure.TCP, config.passive().tcpFailures(), null);
    }
  }

  /** A proxied request to the node timed out. */
  public void reportTimeout(UpstreamNode node) {
    Target target = targets.get(node.authority());
    if (target != null) {
      countFailure(target, Failure.TIMEOUT, config.passive().timeouts(), null);
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
                entry.getValue().task.dispose();
              }
              return gone;
            });
    for (Map.Entry<String, UpstreamNode> entry : wanted.entrySet()) {
      if (!targets.containsKey(entry.getKey())) {
        Target target = new Target(entry.getValue(), config.active());
        targets.put(entry.getKey(), target);
        schedule(target, config.active().healthyInterval());
      }
    }
  }

  /** Stops all probing; reports after this are still counted but nothing probes. */
  synchronized void stop() {
    stopped = true;
    targets.values().forEach(target -> target.task.dispose());
  }

  private void schedule(Target target, Duration delay) {
    target.task.replace(
        scheduler.schedule(() -> probe(target), delay.toNanos(), TimeUnit.NANOSECONDS));
  }

  private void probe(Target target) {
    if (target.task.isDisposed()) {
      return;
    }
    long started = System.nanoTime();
    target.task.replace(
        target
            .prober
            .probe()
            .subscribe(
                result -> {
                  countProbe(target, result);
                  Active active = config.active();
                  Duration interval =
                      target.health.isHealthy()
                          ? active.healthyInterval()
                          : active.unhealthyInterval();
                  // The interval runs from probe start to probe start, as a timer would.
                  Duration left = interval.minusNanos(System.nanoTime() - started);
                  schedule(target, left.isNegative() ? Duration.ZERO : left);
                }));
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

  private void countStatus(Target target, Thresholds thresholds, int status) {
    if (thresholds.healthyStatuses().contains(status)) {
      countSuccess(target, thresholds.successes());
    } else if (thresholds.unhealthyStatuses().contains(status)) {
      countFailure(target, Failure.HTTP, thresholds.httpFailures(), status);
    }
  }

  private void countSuccess(Target target, int threshold) {
    if (target.health.success(threshold)) {
      LOG.info(
          "{} node {} healthy: {} success{}",
          name,
          target.node.authority(),
          threshold,
          threshold == 1 ? "" : "es");
    }
  }

  private void countFailure(Target target, Failure kind, int threshold, Integer lastStatus) {
    if (target.health.failure(kind, threshold)) {
      LOG.info(
          "{} node {} unhealthy: {}{}",
          name,
          target.node.authority(),
          kind.count(threshold),
          lastStatus == null ? "" : " (last status " + lastStatus + ")");
    }
  }
}
