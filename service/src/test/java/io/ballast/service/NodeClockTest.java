package io.ballast.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The {@code ballast.clock_offset} test aid. */
class NodeClockTest {

  private static Duration offsetOf(Clock clock) {
    return Duration.between(Instant.now(), clock.instant());
  }

  @Test
  void noOffsetIsTheSystemClock() {
    assertThat(Node.clock(null)).isEqualTo(Clock.systemUTC());
    assertThat(Node.clock(" ")).isEqualTo(Clock.systemUTC());
  }

  @Test
  void anIsoDurationMovesTheClockEitherWay() {
    assertThat(offsetOf(Node.clock("PT2H")))
        .isBetween(Duration.ofHours(2).minusSeconds(5), Duration.ofHours(2).plusSeconds(5));
    assertThat(offsetOf(Node.clock("-PT10M")))
        .isBetween(Duration.ofMinutes(-10).minusSeconds(5), Duration.ofMinutes(-10).plusSeconds(5));
  }

  @Test
  void anythingElseIsRefusedNamingTheProperty() {
    assertThatThrownBy(() -> Node.clock("2h"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "system property ballast.clock_offset '2h' is not an ISO-8601 duration such as PT2H"
                + " or -PT10M");
  }
}
