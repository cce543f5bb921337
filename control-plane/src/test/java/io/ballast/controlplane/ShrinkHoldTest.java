package io.ballast.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ballast.snapshot.ShrinkGuard;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ShrinkHoldTest {

  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-12-05T09:00:00Z"), ZoneOffset.UTC);

  private final Logger logger = (Logger) LoggerFactory.getLogger(ShrinkHold.class);
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeEach
  void captureLogs() {
    logs.start();
    logger.addAppender(logs);
  }

  @AfterEach
  void releaseLogs() {
    logger.detachAppender(logs);
  }

  @Test
  void anExportThatRemovesTooMuchIsHeldWarnedOnceAndShownUntilOneGoesOut() {
    ShrinkHold hold = new ShrinkHold(ShrinkGuard.DEFAULT, CLOCK);
    assertThat(hold.admits(10, 10, 11, 6, false)).isTrue();
    assertThat(hold.status().get("held")).isNull();

    assertThat(hold.admits(11, 6, 12, 0, false)).isFalse();
    assertThat(hold.admits(11, 6, 12, 0, false)).as("the same export judged again").isFalse();
    assertThat(hold.heldTotal()).isEqualTo(1);
    assertThat(logs.list)
        .filteredOn(e -> e.getLevel() == Level.WARN)
        .singleElement()
        .extracting(ILoggingEvent::getFormattedMessage)
        .isEqualTo(
            "Holding export version 12: it removes 6 of 6 routes (0 left), more than"
                + " fallback_cp.max_route_shrink 50% allows; the conf server and storage keep"
                + " export 11. To let it through: "
                + ShrinkHold.HOW_TO_CONFIRM);

    Map<String, Object> status = hold.status();
    assertThat(status).containsEntry("max_route_shrink", "50%").containsEntry("held_total", 1L);
    @SuppressWarnings("unchecked")
    Map<String, Object> held = (Map<String, Object>) status.get("held");
    assertThat(held)
        .containsEntry("version", 12L)
        .containsEntry("offered_version", 11L)
        .containsEntry("routes", 0L)
        .containsEntry("offered_routes", 6L)
        .containsEntry("since", "2026-12-05T09:00:00Z")
        .containsEntry("how_to_confirm", ShrinkHold.HOW_TO_CONFIRM);

    assertThat(hold.admits(11, 6, 13, 1, false)).as("a newer export, still too small").isFalse();
    assertThat(hold.heldTotal()).isEqualTo(2);

    assertThat(hold.admits(11, 6, 14, 1, true)).as("confirmed by an operator").isTrue();
    assertThat(hold.holding()).isFalse();
    assertThat(hold.status().get("held")).isNull();
    assertThat(logs.list)
        .extracting(ILoggingEvent::getFormattedMessage)
        .contains("Export version 14 goes out; export 13 is no longer held");
  }

  @Test
  void theFirstExportAndAGuardTurnedOffHoldNothing() {
    assertThat(new ShrinkHold(ShrinkGuard.DEFAULT, CLOCK).admits(-1, 0, 1, 0, false)).isTrue();
    ShrinkHold off = new ShrinkHold(ShrinkGuard.OFF, CLOCK);
    assertThat(off.admits(5, 100, 6, 0, false)).isTrue();
    assertThat(off.status()).containsEntry("max_route_shrink", "off (100%)");
  }
}
