package io.ballast.gateway.plugin;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;

/**
 * The per-key state of one rate limit (a counting window, a leaky bucket), shared by concurrent
 * requests. Each key's state changes atomically, so concurrent requests are counted exactly.
 *
 * <p>Memory stays bounded in two ways. A key expires when its state becomes idle (a window that
 * ended, a bucket that drained), since an idle state behaves exactly like an absent key. And at
 * most {@code maxKeys} keys are held: past that, Caffeine evicts the keys least likely to be used
 * again, by recent use and frequency. Those clients start afresh, as they do in APISIX when its
 * shared dictionary evicts entries; a flood of one-off keys (e.g. spoofed addresses) thus loses its
 * own state first, while the clients that keep coming, the ones worth limiting, keep theirs.
 */
final class LimitTable<S> {

  /** How one limit moves a key's state on a request, and when a state is as good as none. */
  interface Rule<S> {
    /** The state after a request at {@code nowNanos}; {@code previous} is null for a new key. */
    S next(S previous, long nowNanos);

    /**
     * How long after {@code nowNanos} {@code state} starts to behave exactly like an absent key;
     * zero or less if it already does.
     */
    long nanosUntilIdle(S state, long nowNanos);
  }

  /** Longer than any limit lasts, and far from overflowing when added to a nanoTime. */
  private static final long FOREVER_NANOS = Long.MAX_VALUE >> 2;

  private final Cache<String, S> states;
  private final Rule<S> rule;

  /**
   * @param ticker the clock of the {@code nowNanos} that callers of {@link #update} pass
   */
  LimitTable(Rule<S> rule, int maxKeys, Ticker ticker) {
    this.rule = rule;
    this.states =
        Caffeine.newBuilder()
            .maximumSize(maxKeys)
            .expireAfter(new UntilIdle())
            .ticker(ticker)
            .build();
  }

  /** Applies one request to {@code key} and returns the key's new state. */
  S update(String key, long nowNanos) {
    // The map view's compute is atomic per key, and treats an expired state as absent.
    return states.asMap().compute(key, (k, previous) -> rule.next(previous, nowNanos));
  }

  /** How many keys are held, once expired and evicted keys are gone. */
  int size() {
    states.cleanUp();
    return (int) states.estimatedSize();
  }

  /** A key expires when its current state becomes idle, whatever last touched it. */
  private final class UntilIdle implements Expiry<String, S> {
    @Override
    public long expireAfterCreate(String key, S state, long nowNanos) {
      return remaining(state, nowNanos);
    }

    @Override
    public long expireAfterUpdate(String key, S state, long nowNanos, long currentDuration) {
      return remaining(state, nowNanos);
    }

    @Override
    public long expireAfterRead(String key, S state, long nowNanos, long currentDuration) {
      return remaining(state, nowNanos);
    }

    private long remaining(S state, long nowNanos) {
      return Math.min(Math.max(rule.nanosUntilIdle(state, nowNanos), 0), FOREVER_NANOS);
    }
  }
}
