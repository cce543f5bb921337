package io.ballast.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ShrinkGuardTest {

  private static boolean held(ShrinkGuard guard, long before, long after) {
    return guard.check(before, after, false).held();
  }

  @Test
  void theDefaultAllowsRemovingExactlyHalfAndHoldsOneMore() {
    ShrinkGuard guard = ShrinkGuard.DEFAULT;
    assertThat(held(guard, 10, 5)).isFalse();
    assertThat(held(guard, 10, 4)).isTrue();
    assertThat(held(guard, 100, 50)).isFalse();
    assertThat(held(guard, 100, 49)).as("51 % removed").isTrue();
    assertThat(held(guard, 3, 2)).isFalse();
    assertThat(held(guard, 3, 1)).as("two thirds removed").isTrue();
  }

  @Test
  void removingEveryRouteIsHeldWheneverThereWereAny() {
    assertThat(held(ShrinkGuard.DEFAULT, 1, 0)).isTrue();
    assertThat(held(ShrinkGuard.DEFAULT, 10_000, 0)).isTrue();
    assertThat(held(ShrinkGuard.parse("99.9%"), 1, 0)).isTrue();
  }

  @Test
  void nothingBeforeOrGrowingIsNeverHeld() {
    assertThat(held(ShrinkGuard.DEFAULT, 0, 0)).isFalse();
    assertThat(held(ShrinkGuard.DEFAULT, 0, 7)).isFalse();
    assertThat(held(ShrinkGuard.DEFAULT, 7, 9)).isFalse();
    assertThat(held(ShrinkGuard.parse("0%"), 7, 7)).isFalse();
    assertThat(held(ShrinkGuard.parse("0%"), 7, 6)).as("0 % holds any removal").isTrue();
  }

  @Test
  void oneHundredPercentTurnsTheGuardOff() {
    ShrinkGuard off = ShrinkGuard.parse("100%");
    assertThat(off.enabled()).isFalse();
    assertThat(held(off, 10, 0)).isFalse();
    assertThat(ShrinkGuard.parse("1").enabled()).isFalse();
    assertThat(ShrinkGuard.OFF.enabled()).isFalse();
    assertThat(ShrinkGuard.DEFAULT.enabled()).isTrue();
  }

  @Test
  void aConfirmedShrinkGoesThroughAndIsStillNamed() {
    ShrinkGuard.Verdict verdict = ShrinkGuard.DEFAULT.check(10, 0, true);
    assertThat(verdict.held()).isFalse();
    assertThat(verdict.beyondGuard()).isTrue();
    ShrinkGuard.Verdict unconfirmed = ShrinkGuard.DEFAULT.check(10, 1, false);
    assertThat(unconfirmed.held()).isTrue();
    assertThat(unconfirmed.describe())
        .isEqualTo(
            "removes 9 of 10 routes (1 left), more than fallback_cp.max_route_shrink 50% allows");
  }

  @Test
  void readsPercentagesAndFractions() {
    assertThat(ShrinkGuard.parse("50%").describe()).isEqualTo("50%");
    assertThat(ShrinkGuard.parse(" 25 %").describe()).isEqualTo("25%");
    assertThat(ShrinkGuard.parse("0.25").describe()).isEqualTo("25%");
    assertThat(ShrinkGuard.parse("12.5%").describe()).isEqualTo("12.5%");
    assertThat(held(ShrinkGuard.parse("0.25"), 8, 6)).isFalse();
    assertThat(held(ShrinkGuard.parse("25%"), 8, 5)).isTrue();
  }

  @Test
  void refusesWhatIsNotAShare() {
    assertThatThrownBy(() -> ShrinkGuard.parse("half"))
        .hasMessage("must be a share of the routes such as 50% or 0.5, not 'half'");
    assertThatThrownBy(() -> ShrinkGuard.parse("150%"))
        .hasMessage("must be from 0% to 100%, not '150%'");
    assertThatThrownBy(() -> ShrinkGuard.parse("50"))
        .hasMessage("must be a fraction from 0 to 1 or a percentage such as 50%, not '50'");
    assertThatThrownBy(() -> ShrinkGuard.parse("-1%"))
        .hasMessage("must be from 0% to 100%, not '-1%'");
  }
}
