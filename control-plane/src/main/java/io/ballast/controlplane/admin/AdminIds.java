package io.ballast.controlplane.admin;

import java.time.Clock;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Ids for resources created with POST. APISIX hands out 20-digit numeric strings that sort by
 * creation; these are the creation time in milliseconds followed by six digits of sequence, so they
 * are unique and increasing within a process and ordered by time across restarts.
 */
final class AdminIds {

  private static final long PER_MILLI = 1_000_000;

  private final Clock clock;
  private final AtomicLong last = new AtomicLong();

  AdminIds(Clock clock) {
    this.clock = clock;
  }

  String next() {
    long earliest = clock.millis() * PER_MILLI;
    long id = last.updateAndGet(previous -> Math.max(previous + 1, earliest));
    return String.format("%020d", id);
  }
}
