package io.ballast.gateway.plugin;

import java.time.Duration;
import java.util.Objects;

/** What a plugin's rewrite or access phase decided: go on, answer the client now, or wait. */
public final class Outcome {

  private static final Outcome PROCEED = new Outcome(null, Duration.ZERO);

  private final Reply reply;
  private final Duration delay;

  private Outcome(Reply reply, Duration delay) {
    this.reply = reply;
    this.delay = delay;
  }

  /** Go on with the next plugin and then the upstream. */
  public static Outcome proceed() {
    return PROCEED;
  }

  /**
   * Answer the client with {@code reply}; no further plugin phase runs and no upstream is asked.
   */
  public static Outcome reply(Reply reply) {
    return new Outcome(Objects.requireNonNull(reply, "reply"), Duration.ZERO);
  }

  /** Go on after {@code delay} (limit-req's leaky bucket), without holding a thread. */
  public static Outcome delay(Duration delay) {
    Objects.requireNonNull(delay, "delay");
    return delay.isZero() || delay.isNegative() ? PROCEED : new Outcome(null, delay);
  }

  /** The reply to send; {@code null} when the request goes on. */
  public Reply reply() {
    return reply;
  }

  /** How long to wait before going on; zero for none. */
  public Duration delay() {
    return delay;
  }
}
