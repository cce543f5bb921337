package io.ballast.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {

  private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60));

  @Test
  void doublesFromTheFirstDelayUpToTheCap() {
    assertThat(backoff.undisturbed(1)).isEqualTo(Duration.ofSeconds(1));
    assertThat(backoff.undisturbed(2)).isEqualTo(Duration.ofSeconds(2));
    assertThat(backoff.undisturbed(6)).isEqualTo(Duration.ofSeconds(32));
    assertThat(backoff.undisturbed(7)).isEqualTo(Duration.ofSeconds(60));
    assertThat(backoff.undisturbed(10_000)).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void jittersByTwentyPercentAndNeverBelowTheCapOnceThere() {
    for (int i = 0; i < 1000; i++) {
      assertThat(backoff.delay(3)).isBetween(Duration.ofMillis(3200), Duration.ofMillis(4800));
      // At most one request per cap while a server stays down.
      assertThat(backoff.delay(50)).isBetween(Duration.ofSeconds(60), Duration.ofSeconds(72));
    }
  }
}
