package io.ballast.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A steady load on routes that exist before a fault: {@value #WORKERS} threads, each sending GETs
 * round the given paths on a fixed schedule, together {@code requestsPerSecond}. Every answer but
 * 200 is a failure; 404s (a route that vanished) are also counted on their own. Bounded: it stops
 * by itself after {@code maxRunTime}, so a failed test cannot leave it running.
 */
final class LoadLoop implements AutoCloseable {

  /** The rate docs/faults.md judges every row at, at least. */
  static final int DEFAULT_RATE = 250;

  private static final int WORKERS = 5;
  private static final int KEPT_FAILURES = 10;

  private final List<String> urls;
  private final long periodNanos;
  private final long deadline;
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final AtomicLong successes = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong notFound = new AtomicLong();
  private final List<String> firstFailures = new CopyOnWriteArrayList<>();
  private final java.util.Queue<Long> latencies =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final List<Thread> threads = new ArrayList<>();
  private final long startedAt = System.nanoTime();
  private volatile long stoppedAt;

  private LoadLoop(List<String> urls, int requestsPerSecond, Duration maxRunTime) {
    this.urls = List.copyOf(urls);
    this.periodNanos = TimeUnit.SECONDS.toNanos(1) * WORKERS / requestsPerSecond;
    this.deadline = startedAt + maxRunTime.toNanos();
  }

  /** {@value #DEFAULT_RATE} requests/s on {@code urls} for at most {@code maxRunTime}. */
  static LoadLoop start(List<String> urls, Duration maxRunTime) {
    return start(urls, DEFAULT_RATE, maxRunTime);
  }

  static LoadLoop start(List<String> urls, int requestsPerSecond, Duration maxRunTime) {
    LoadLoop loop = new LoadLoop(urls, requestsPerSecond, maxRunTime);
    for (int i = 0; i < WORKERS; i++) {
      int first = i;
      Thread thread = new Thread(() -> loop.run(first), "chaos-load-" + i);
      thread.setDaemon(true);
      loop.threads.add(thread);
      thread.start();
    }
    return loop;
  }

  private void run(int worker) {
    long next = System.nanoTime() + periodNanos * worker / WORKERS;
    int index = worker;
    while (!stopped.get() && System.nanoTime() - deadline < 0) {
      long wait = next - System.nanoTime();
      if (wait > 0) {
        try {
          TimeUnit.NANOSECONDS.sleep(wait);
        } catch (InterruptedException e) {
          return;
        }
      }
      next += periodNanos;
      String url = urls.get(index++ % urls.size());
      long sent = System.nanoTime();
      Http.Response response = Http.get(url);
      if (response.status() == 200) {
        latencies.add(System.nanoTime() - sent);
        successes.incrementAndGet();
        continue;
      }
      failures.incrementAndGet();
      if (response.status() == 404) {
        notFound.incrementAndGet();
      }
      if (firstFailures.size() < KEPT_FAILURES) {
        firstFailures.add(java.time.Instant.now() + " " + url + ": " + response);
      }
    }
  }

  /** Stops the loop and waits for the last requests to finish. */
  void stop() {
    if (stopped.getAndSet(true)) {
      return;
    }
    stoppedAt = System.nanoTime();
    for (Thread thread : threads) {
      try {
        thread.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  long successes() {
    return successes.get();
  }

  long failures() {
    return failures.get();
  }

  long notFound() {
    return notFound.get();
  }

  /** Forgets the latencies measured so far, to measure a new phase. */
  void resetLatencies() {
    latencies.clear();
  }

  /** The 99th percentile of the successful requests' latency since the last reset, in ms. */
  double p99Millis() {
    long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[(int) Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] / 1e6;
  }

  /** Requests answered per second over the loop's life so far. */
  double rate() {
    long end = stopped.get() ? stoppedAt : System.nanoTime();
    double seconds = (end - startedAt) / 1e9;
    return seconds <= 0 ? 0 : (successes() + failures()) / seconds;
  }

  /**
   * Stops the loop and asserts the first general criterion: no failed request at all, at the rate
   * asked for (a loop that could not keep its rate would hide failures).
   */
  void stopAndAssertNoFailure() {
    stop();
    assertThat(failures()).as("failed requests on existing routes: %s", this).isZero();
    assertThat(rate()).as("load rate, requests/s: %s", this).isGreaterThanOrEqualTo(200);
  }

  @Override
  public String toString() {
    return "load on "
        + urls
        + ": "
        + successes()
        + " ok, "
        + failures()
        + " failed ("
        + notFound()
        + " x 404), "
        + Math.round(rate())
        + " req/s, first failures "
        + firstFailures;
  }

  @Override
  public void close() {
    stop();
  }
}
