package io.ballast.chaos;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Steady client traffic: one GET every interval on its own thread, counting 200s and everything
 * else. Bounded: it stops by itself after {@code maxRunTime} so that a failed test cannot leave it
 * running.
 */
final class TrafficLoop implements AutoCloseable {

  private static final int KEPT_FAILURES = 10;

  private final String url;
  private final Duration interval;
  private final Duration maxRunTime;
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final AtomicLong successes = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final List<String> firstFailures = new CopyOnWriteArrayList<>();
  private final Thread thread;

  private TrafficLoop(String url, Duration interval, Duration maxRunTime) {
    this.url = url;
    this.interval = interval;
    this.maxRunTime = maxRunTime;
    this.thread = new Thread(this::run, "chaos-traffic " + url);
    this.thread.setDaemon(true);
  }

  static TrafficLoop start(String url, Duration interval, Duration maxRunTime) {
    TrafficLoop loop = new TrafficLoop(url, interval, maxRunTime);
    loop.thread.start();
    return loop;
  }

  private void run() {
    long deadline = System.nanoTime() + maxRunTime.toNanos();
    while (!stopped.get() && System.nanoTime() - deadline < 0) {
      Http.Response response = Http.get(url);
      if (response.status() == 200) {
        successes.incrementAndGet();
      } else {
        failures.incrementAndGet();
        if (firstFailures.size() < KEPT_FAILURES) {
          firstFailures.add(System.currentTimeMillis() + " ms: " + response);
        }
      }
      try {
        Thread.sleep(interval.toMillis());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Stops the loop and waits for its last request to finish. */
  void stop() {
    stopped.set(true);
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  long successes() {
    return successes.get();
  }

  long failures() {
    return failures.get();
  }

  List<String> firstFailures() {
    return List.copyOf(firstFailures);
  }

  @Override
  public String toString() {
    return "GET "
        + url
        + ": "
        + successes()
        + " ok, "
        + failures()
        + " failed, first failures "
        + firstFailures();
  }

  @Override
  public void close() {
    stop();
  }
}
