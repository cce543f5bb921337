package io.ballast.snapshot;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * {@code fallback_cp.max_route_shrink}: the share of the routes one export may remove before it is
 * held for an operator's confirmation. An export is held when it removes every route while the one
 * before had any, or removes more than the share; removing exactly the share is allowed. {@code
 * 100%} turns the guard off. The same rule runs where a CP exports and where a DP applies, so a
 * store wiped by accident never turns every route into a 404.
 *
 * <p>The share is kept in parts per million so that the boundaries are exact: with 50 % and 10
 * routes before, removing 5 passes and removing 6 is held.
 */
public final class ShrinkGuard {

  /** The key, for messages that tell an operator what to change. */
  public static final String KEY = "fallback_cp.max_route_shrink";

  public static final String DEFAULT_TEXT = "50%";

  private static final long MILLION = 1_000_000;

  /** APISIX has no such guard; Ballast's default holds any export that removes over half. */
  public static final ShrinkGuard DEFAULT = new ShrinkGuard(MILLION / 2);

  /** Removes any share: the guard is off. */
  public static final ShrinkGuard OFF = new ShrinkGuard(MILLION);

  private final long maxSharePpm;

  private ShrinkGuard(long maxSharePpm) {
    this.maxSharePpm = maxSharePpm;
  }

  /**
   * Reads {@code NN%} (a percentage, decimals allowed) or a fraction from 0 to 1 ({@code 0.5}).
   *
   * @throws IllegalArgumentException saying what is wrong with {@code text}
   */
  public static ShrinkGuard parse(String text) {
    String trimmed = text.trim();
    boolean percent = trimmed.endsWith("%");
    String number = percent ? trimmed.substring(0, trimmed.length() - 1).trim() : trimmed;
    BigDecimal share;
    try {
      share = new BigDecimal(number);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "must be a share of the routes such as 50% or 0.5, not '" + text + "'");
    }
    if (percent) {
      share = share.movePointLeft(2);
    }
    if (share.signum() < 0 || share.compareTo(BigDecimal.ONE) > 0) {
      throw new IllegalArgumentException(
          percent
              ? "must be from 0% to 100%, not '" + text + "'"
              : "must be a fraction from 0 to 1 or a percentage such as 50%, not '" + text + "'");
    }
    return new ShrinkGuard(
        share.movePointRight(6).setScale(0, RoundingMode.HALF_UP).longValueExact());
  }

  /** False at 100 %: every export goes through. */
  public boolean enabled() {
    return maxSharePpm < MILLION;
  }

  /** The share as an operator writes it, such as {@code 50%}. */
  public String describe() {
    return BigDecimal.valueOf(maxSharePpm, 4).stripTrailingZeros().toPlainString() + "%";
  }

  /**
   * Judges an export that takes the routes from {@code previousRoutes} to {@code nextRoutes}. A
   * confirmed export is never held; it still gets a verdict that names both counts, for the log.
   */
  public Verdict check(long previousRoutes, long nextRoutes, boolean confirmed) {
    long removed = Math.max(0, previousRoutes - nextRoutes);
    boolean shrinks =
        enabled()
            && previousRoutes > 0
            && (nextRoutes == 0
                // removed / previous > share, in whole numbers
                || removed * MILLION > maxSharePpm * previousRoutes);
    return new Verdict(shrinks && !confirmed, shrinks, previousRoutes, nextRoutes, describe());
  }

  /**
   * Judges {@code next} against the export served now, as a DP does before applying it: {@code
   * next} passes when it keeps enough of the served routes or carries an operator's {@code
   * shrink_confirmed}. The DP checks every step itself, also one its CP checked, so that a CP whose
   * guard is looser (or off) cannot take routes away from a DP whose guard is not.
   */
  public Verdict check(ExportManifest served, ExportManifest next) {
    return check(served.routes(), next.routes(), next.shrinkConfirmed());
  }

  @Override
  public String toString() {
    return "ShrinkGuard[" + describe() + "]";
  }

  /**
   * What the guard says of one export.
   *
   * @param held the export must not go out (nor be applied)
   * @param beyondGuard it removes more than the guard allows; with {@code held} false, an operator
   *     confirmed it
   * @param previousRoutes routes in the export it is compared with
   * @param nextRoutes routes in the export judged
   * @param maxShare the guard's share, such as {@code 50%}
   */
  public record Verdict(
      boolean held, boolean beyondGuard, long previousRoutes, long nextRoutes, String maxShare) {

    public long removedRoutes() {
      return Math.max(0, previousRoutes - nextRoutes);
    }

    /** One line for a log or a status page, e.g. "removes 9 of 10 routes (1 left), over 50%". */
    public String describe() {
      return "removes "
          + removedRoutes()
          + " of "
          + previousRoutes
          + " routes ("
          + nextRoutes
          + " left), more than "
          + KEY
          + " "
          + maxShare
          + " allows";
    }
  }
}
