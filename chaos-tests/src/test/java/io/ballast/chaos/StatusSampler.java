package io.ballast.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import tools.jackson.databind.JsonNode;

/**
 * Reads a data plane's {@code GET /status} every {@value #INTERVAL_MILLIS} ms on its own thread and
 * keeps what the fault criteria are judged on: the version served over time (it must never go
 * down), when each reason code ({@code data_plane.health.reasons[].code}) was first seen, and every
 * sample, so a test can ask when a field first took a value. Bounded by {@code maxRunTime}.
 */
final class StatusSampler implements AutoCloseable {

  static final long INTERVAL_MILLIS = 100;

  /** One reading of {@code /status}. */
  record Sample(Instant at, JsonNode status) {

    long version() {
      JsonNode version = status.at("/config/version");
      return version.isNumber() ? version.asLong() : -1;
    }

    Set<String> reasons() {
      return reasonCodes(status);
    }
  }

  private final BallastNode node;
  private final long deadline;
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final List<Sample> samples = new CopyOnWriteArrayList<>();
  private final Map<String, Instant> firstSeen = new ConcurrentHashMap<>();
  private final List<String> decreases = new CopyOnWriteArrayList<>();
  private final Thread thread;
  private volatile long highestVersion = -1;

  private StatusSampler(BallastNode node, Duration maxRunTime) {
    this.node = node;
    this.deadline = System.nanoTime() + maxRunTime.toNanos();
    this.thread = new Thread(this::run, "chaos-status-" + node.name());
    this.thread.setDaemon(true);
  }

  static StatusSampler start(BallastNode node, Duration maxRunTime) {
    StatusSampler sampler = new StatusSampler(node, maxRunTime);
    sampler.thread.start();
    return sampler;
  }

  /** The reason codes in {@code data_plane.health.reasons} of one status. */
  static Set<String> reasonCodes(JsonNode status) {
    Set<String> codes = new LinkedHashSet<>();
    for (JsonNode reason : status.at("/data_plane/health/reasons")) {
      codes.add(reason.path("code").asString(""));
    }
    return codes;
  }

  private void run() {
    while (!stopped.get() && System.nanoTime() - deadline < 0) {
      Http.Response response = Http.get(node.statusUrl());
      if (response.status() == 200) {
        record(new Sample(Instant.now(), response.json()));
      }
      try {
        TimeUnit.MILLISECONDS.sleep(INTERVAL_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void record(Sample sample) {
    samples.add(sample);
    long version = sample.version();
    if (version >= 0) {
      if (version < highestVersion) {
        decreases.add(sample.at() + ": " + highestVersion + " -> " + version);
      }
      highestVersion = Math.max(highestVersion, version);
    }
    for (String code : sample.reasons()) {
      firstSeen.putIfAbsent(code, sample.at());
    }
  }

  /** When {@code code} was first seen on status, if it was. */
  Optional<Instant> firstSeen(String code) {
    return Optional.ofNullable(firstSeen.get(code));
  }

  /** The first sample at or after {@code from} that matches, if any yet. */
  Optional<Sample> first(Instant from, Predicate<JsonNode> matches) {
    for (Sample sample : samples) {
      if (!sample.at().isBefore(from) && matches.test(sample.status())) {
        return Optional.of(sample);
      }
    }
    return Optional.empty();
  }

  /**
   * Waits until a sample at or after {@code from} matches; returns how long after {@code from} it
   * was first seen. Fails with the last status and the node's log after {@code timeout}.
   */
  Duration await(String what, Instant from, Duration timeout, Predicate<JsonNode> matches) {
    Sample sample =
        Await.until(
            node.name() + " status: " + what,
            timeout,
            Duration.ofMillis(INTERVAL_MILLIS),
            () -> first(from, matches),
            () ->
                "last status: "
                    + last().map(Sample::status).orElse(null)
                    + "\n"
                    + node.describeLog(40));
    return Duration.between(from, sample.at());
  }

  /** Waits for reason {@code code} on status after {@code from}; returns the time it took. */
  Duration awaitReason(String code, Instant from, Duration timeout) {
    return await("reason " + code, from, timeout, status -> reasonCodes(status).contains(code));
  }

  /** Waits until {@code code} is gone from status after {@code from}. */
  Duration awaitCleared(String code, Instant from, Duration timeout) {
    return await(
        "reason " + code + " cleared",
        from,
        timeout,
        status -> !reasonCodes(status).contains(code));
  }

  Optional<Sample> last() {
    return samples.isEmpty() ? Optional.empty() : Optional.of(samples.get(samples.size() - 1));
  }

  /** Every distinct version served, in the order first seen. */
  Set<Long> versionsServed() {
    Set<Long> versions = new LinkedHashSet<>();
    for (Sample sample : samples) {
      if (sample.version() >= 0) {
        versions.add(sample.version());
      }
    }
    return versions;
  }

  long highestVersion() {
    return highestVersion;
  }

  /** The general criterion: the version served never went down while sampled. */
  void assertVersionNeverDecreased() {
    assertThat(samples).as("%s status samples", node.name()).isNotEmpty();
    assertThat(decreases)
        .as("%s: served version went down (versions seen %s)", node.name(), versionsServed())
        .isEmpty();
  }

  void stop() {
    stopped.set(true);
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  List<Sample> samples() {
    return new ArrayList<>(samples);
  }

  @Override
  public void close() {
    stop();
  }
}
