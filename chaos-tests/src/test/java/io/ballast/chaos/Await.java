package io.ballast.chaos;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * Polling with a deadline. Every wait in the chaos tests goes through here so that none can hang:
 * on timeout it fails with what it waited for, the last observation and the given diagnostics
 * (typically a node's log tail).
 */
public final class Await {

  private Await() {}

  /**
   * Calls {@code probe} every {@code interval} until it returns a value. A probe that throws counts
   * as "not yet" and its message becomes the last observation.
   */
  public static <T> T until(
      String what,
      Duration timeout,
      Duration interval,
      Callable<Optional<T>> probe,
      Supplier<String> diagnostics) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String lastObservation = "nothing observed yet";
    while (true) {
      try {
        Optional<T> result = probe.call();
        if (result.isPresent()) {
          return result.get();
        }
        lastObservation = "probe returned no result";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + what, e);
      } catch (Exception | AssertionError e) {
        lastObservation = e.toString();
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            "timed out after "
                + timeout.toMillis()
                + " ms waiting for "
                + what
                + "; last observation: "
                + lastObservation
                + "\n"
                + diagnostics.get());
      }
      sleep(interval);
    }
  }

  static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
