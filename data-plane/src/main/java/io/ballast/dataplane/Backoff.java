package io.ballast.dataplane;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with ±20 % jitter: {@code first}, twice that, four times… up to {@code cap}.
 * Jitter spreads the retries of many data planes that lost the same server at the same moment.
 */
record Backoff(Duration first, Duration cap) {

  /** The share by which a delay is moved either way at random. */
  static final double JITTER = 0.2;

  /**
   * The delay before retry {@code failures} (1 for the first), jittered. Once at the cap it is
   * jittered upwards only, so that a server down for long gets at most one request per cap.
   */
  Duration delay(int failures) {
    Duration plain = undisturbed(failures);
    Duration delay = jittered(plain);
    return plain.equals(cap) && delay.compareTo(cap) < 0 ? cap.plus(cap.minus(delay)) : delay;
  }

  /** The delay before retry {@code failures} without jitter. */
  Duration undisturbed(int failures) {
    int doublings = Math.min(Math.max(failures - 1, 0), 30);
    long millis = first.toMillis();
    long capMillis = cap.toMillis();
    for (int i = 0; i < doublings && millis < capMillis; i++) {
      millis *= 2;
    }
    return Duration.ofMillis(Math.min(millis, capMillis));
  }

  /** {@code delay} moved by up to ±{@link #JITTER} at random. */
  static Duration jittered(Duration delay) {
    double factor = 1 + JITTER * (2 * ThreadLocalRandom.current().nextDouble() - 1);
    return Duration.ofMillis(Math.max(1, Math.round(delay.toMillis() * factor)));
  }
}
