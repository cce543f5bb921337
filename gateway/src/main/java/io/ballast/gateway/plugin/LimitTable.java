package io.ballast.gateway.plugin;

import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The per-key state of one rate limit (a counting window, a leaky bucket), shared by concurrent
 * requests. Each key's state changes atomically, so concurrent requests are counted exactly.
 *
 * <p>Memory stays bounded in two ways. Keys whose state has become idle (a window that ended, a
 * bucket that drained) are equivalent to absent keys and are swept at most once per sweep interval.
 * If more than {@code maxKeys} keys are live at once (e.g. a flood of client addresses), arbitrary
 * live keys are dropped down to three quarters of the limit: those clients start afresh, as they do
 * in APISIX when its shared dictionary evicts entries.
 */
final class LimitTable<S> {

  /** How one limit moves a key's state on a request, and when a state is as good as none. */
  interface Rule<S> {
    /** The state after a request at {@code nowNanos}; {@code previous} is null for a new key. */
    S next(S previous, long nowNanos);

    /** Whether {@code state} behaves at {@code nowNanos} exactly like an absent key. */
    boolean idle(S state, long nowNanos);
  }

  private final ConcurrentHashMap<String, S> states = new ConcurrentHashMap<>();
  private final Rule<S> rule;
  private final int maxKeys;
  private final long sweepIntervalNanos;
  private final AtomicLong nextSweep;

  LimitTable(Rule<S> rule, int maxKeys, long sweepIntervalNanos, long nowNanos) {
    this.rule = rule;
    this.maxKeys = maxKeys;
    this.sweepIntervalNanos = sweepIntervalNanos;
    this.nextSweep = new AtomicLong(nowNanos + sweepIntervalNanos);
  }

  /** Applies one request to {@code key} and returns the key's new state. */
  S update(String key, long nowNanos) {
    sweepIfDue(nowNanos);
    return states.compute(key, (k, previous) -> rule.next(previous, nowNanos));
  }

  /** How many keys are held. */
  int size() {
    return states.size();
  }

  private void sweepIfDue(long nowNanos) {
    long due = nextSweep.get();
    boolean full = states.size() >= maxKeys;
    if ((nowNanos - due < 0 && !full)
        || !nextSweep.compareAndSet(due, nowNanos + sweepIntervalNanos)) {
      return;
    }
    // Removes a state only if no request replaced it meanwhile (ConcurrentHashMap's removeIf on
    // a view checks the value it tested), so a request in flight is never lost.
    states.values().removeIf(state -> rule.idle(state, nowNanos));
    if (states.size() >= maxKeys) {
      int target = maxKeys / 4 * 3;
      Iterator<String> keys = states.keySet().iterator();
      while (states.size() > target && keys.hasNext()) {
        keys.next();
        keys.remove();
      }
    }
  }
}
