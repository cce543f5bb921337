package io.ballast.controlplane;

import io.ballast.snapshot.ShrinkGuard;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CP's side of the shrink guard: decides whether a newly built export may go out (to the conf
 * server and to storage) compared with the last one that went out, and keeps what an operator needs
 * to see about a held one: a WARN once per held version, {@code exports.held} on {@code /status}
 * and a counter. While an export is held, the last good one stays on offer; the first export an
 * operator confirmed goes out at once.
 */
public final class ShrinkHold {

  private static final Logger log = LoggerFactory.getLogger(ShrinkHold.class);

  /** What an operator does to let a held export through; in the log and on {@code /status}. */
  static final String HOW_TO_CONFIRM =
      "POST /apisix/admin/ballast/confirm_shrink with an admin key, or repeat the removal with"
          + " ?confirm_shrink=true";

  private final ShrinkGuard guard;
  private final Clock clock;
  private final AtomicLong heldTotal = new AtomicLong();
  private volatile Held held;

  /** One held export, as {@code /status} shows it. */
  private record Held(
      long version, long previousVersion, ShrinkGuard.Verdict verdict, Instant since) {}

  public ShrinkHold(ShrinkGuard guard, Clock clock) {
    this.guard = guard;
    this.clock = clock;
  }

  /**
   * Whether export {@code version} (with {@code routes} routes) may follow export {@code
   * previousVersion} (with {@code previousRoutes}); {@code confirmed} says an operator confirmed a
   * shrink since {@code previousVersion}. With nothing exported before, pass {@code previousRoutes}
   * 0: there is nothing to shrink from.
   */
  public synchronized boolean admits(
      long previousVersion, long previousRoutes, long version, long routes, boolean confirmed) {
    ShrinkGuard.Verdict verdict = guard.check(previousRoutes, routes, confirmed);
    if (verdict.held()) {
      Held before = held;
      if (before == null || before.version() != version) {
        heldTotal.incrementAndGet();
        log.warn(
            "Holding export version {}: it {}; the conf server and storage keep export {}. To"
                + " let it through: {}",
            version,
            verdict.describe(),
            previousVersion,
            HOW_TO_CONFIRM);
        held =
            new Held(
                version,
                previousVersion,
                verdict,
                before == null ? clock.instant() : before.since());
      }
      return false;
    }
    if (verdict.beyondGuard()) {
      log.warn(
          "Export version {} {}, and goes out because an operator confirmed it",
          version,
          verdict.describe());
    }
    if (held != null) {
      log.info("Export version {} goes out; export {} is no longer held", version, held.version());
      held = null;
    }
    return true;
  }

  /** Whether an export is held now. */
  public boolean holding() {
    return held != null;
  }

  /** How many exports were held since the process started. */
  public long heldTotal() {
    return heldTotal.get();
  }

  /** {@code exports} on the CP's {@code /status}: {@code held} is null while nothing is held. */
  public Map<String, Object> status() {
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("max_route_shrink", guard.enabled() ? guard.describe() : "off (100%)");
    Held current = held;
    if (current == null) {
      status.put("held", null);
    } else {
      Map<String, Object> detail = new LinkedHashMap<>();
      detail.put("version", current.version());
      detail.put("offered_version", current.previousVersion());
      detail.put("routes", current.verdict().nextRoutes());
      detail.put("offered_routes", current.verdict().previousRoutes());
      detail.put("reason", current.verdict().describe());
      detail.put("since", current.since().toString());
      detail.put("how_to_confirm", HOW_TO_CONFIRM);
      status.put("held", detail);
    }
    status.put("held_total", heldTotal.get());
    return status;
  }
}
