package io.ballast.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CronSpecTest {

  private static Instant next(String spec, String after) {
    return CronSpec.parse(spec).next(Instant.parse(after), ZoneOffset.UTC);
  }

  // 2026-11-25 is a Wednesday.
  @ParameterizedTest(name = "{0} after {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "*/15 9-17 * * MON-FRI | 2026-11-25T08:59:30Z | 2026-11-25T09:00:00Z",
        "*/15 9-17 * * MON-FRI | 2026-11-25T09:00:00Z | 2026-11-25T09:15:00Z",
        "*/15 9-17 * * MON-FRI | 2026-11-27T17:44:00Z | 2026-11-27T17:45:00Z",
        "*/15 9-17 * * MON-FRI | 2026-11-27T17:45:00Z | 2026-11-30T09:00:00Z",
        "0 0 1 * *             | 2026-11-25T10:00:00Z | 2026-12-01T00:00:00Z",
        "0 0 1 * *             | 2026-12-01T00:00:00Z | 2027-01-01T00:00:00Z",
        "@hourly               | 2026-11-25T10:00:00Z | 2026-11-25T11:00:00Z",
        "@daily                | 2026-11-25T10:00:00Z | 2026-11-26T00:00:00Z",
        "@midnight             | 2026-11-25T23:59:59Z | 2026-11-26T00:00:00Z",
        "@weekly               | 2026-11-25T10:00:00Z | 2026-11-29T00:00:00Z",
        "@monthly              | 2026-11-25T10:00:00Z | 2026-12-01T00:00:00Z",
        "@yearly               | 2026-11-25T10:00:00Z | 2027-01-01T00:00:00Z",
        "@annually             | 2027-01-01T00:00:00Z | 2028-01-01T00:00:00Z",
        // Both day fields restricted: the 13th OR any Friday.
        "0 12 13 * FRI         | 2026-11-25T10:00:00Z | 2026-11-27T12:00:00Z",
        "0 12 13 * FRI         | 2026-12-12T00:00:00Z | 2026-12-13T12:00:00Z",
        // Day of week left as *: only the 13th.
        "0 12 13 * *           | 2026-11-25T10:00:00Z | 2026-12-13T12:00:00Z",
        // */2 restricts the day of month, so the OR rule applies (as in robfig/cron).
        "0 0 */10 * MON        | 2026-11-25T10:00:00Z | 2026-11-30T00:00:00Z",
        // The next 29 February, and the one after 2100, which is no leap year.
        "0 0 29 2 *            | 2026-11-25T10:00:00Z | 2028-02-29T00:00:00Z",
        "0 0 29 2 *            | 2028-02-29T00:00:00Z | 2032-02-29T00:00:00Z",
        "0 0 29 2 *            | 2096-03-01T00:00:00Z | 2104-02-29T00:00:00Z",
        "0 0 * * 7             | 2026-11-25T10:00:00Z | 2026-11-29T00:00:00Z",
        "0 0 * * 0             | 2026-11-25T10:00:00Z | 2026-11-29T00:00:00Z",
        "0 0 1 jan,Jul *       | 2026-11-25T10:00:00Z | 2027-01-01T00:00:00Z",
        "0 0 1 jan,Jul *       | 2027-01-01T00:00:00Z | 2027-07-01T00:00:00Z",
        "5/20 * * * *          | 2026-11-25T10:25:00Z | 2026-11-25T10:45:00Z",
        "0-30/10 8,20 * * *    | 2026-11-25T08:30:00Z | 2026-11-25T20:00:00Z",
        "1,2,3 * ? * ?         | 2026-11-25T10:03:00Z | 2026-11-25T11:01:00Z",
      })
  void nextFiringTime(String spec, String after, String expected) {
    assertThat(next(spec, after)).isEqualTo(Instant.parse(expected));
  }

  @Test
  void everyFiresOneIntervalAfter() {
    assertThat(next("@every 1h30m", "2026-11-25T10:00:07Z"))
        .isEqualTo(Instant.parse("2026-11-25T11:30:07Z"));
    assertThat(next("@every 1m", "2026-11-25T10:00:00Z"))
        .isEqualTo(Instant.parse("2026-11-25T10:01:00Z"));
    assertThat(next("@every 30s", "2026-11-25T10:00:00Z"))
        .isEqualTo(Instant.parse("2026-11-25T10:00:30Z"));
  }

  @Test
  void fieldsAreReadInTheGivenZone() {
    CronSpec nine = CronSpec.parse("0 9 * * *");
    assertThat(nine.next(Instant.parse("2026-11-25T10:00:00Z"), ZoneId.of("Europe/Berlin")))
        .isEqualTo(Instant.parse("2026-11-26T08:00:00Z"));
  }

  @Test
  void aTimeSkippedByDaylightSavingFiresAfterTheJump() {
    ZoneId newYork = ZoneId.of("America/New_York");
    // 2027-03-14 02:00 EST jumps to 03:00 EDT; 02:30 does not exist that day.
    assertThat(CronSpec.parse("30 2 * * *").next(Instant.parse("2027-03-13T12:00:00Z"), newYork))
        .isEqualTo(Instant.parse("2027-03-14T07:30:00Z"));
  }

  @Test
  void aRepeatedHourFiresOnce() {
    ZoneId newYork = ZoneId.of("America/New_York");
    // 2026-11-01 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST).
    assertThat(CronSpec.parse("30 1 * * *").next(Instant.parse("2026-11-01T05:30:00Z"), newYork))
        .isEqualTo(Instant.parse("2026-11-02T06:30:00Z"));
  }

  @Test
  void keepsTheSpecAsWritten() {
    CronSpec spec = CronSpec.parse("@every 1m");
    assertThat(spec.spec()).isEqualTo("@every 1m");
    assertThat(spec).isEqualTo(CronSpec.parse("@every 1m")).hasToString("@every 1m");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "61 * * * *       | minute field '61': 61 is outside 0-59",
        "* 24 * * *       | hour field '24'",
        "* * 0 * *        | day-of-month field '0'",
        "* * * 13 *       | month field '13'",
        "* * * FOO *      | month field 'FOO': 'FOO' is not a number or a name",
        "* * * * 8        | day-of-week field '8'",
        "5-1 * * * *      | the range starts after it ends",
        "*/0 * * * *      | the step must be at least 1",
        "* * *            | has 3 fields",
        "0 * * * * *      | has 6 fields",
        "@often           | known descriptors are",
        "@every           | empty duration",
        "@every banana    | is not a duration",
        "@every 0s        | at least 1s",
        "0 0 30 2 *       | never fires",
        "0 0 31 APR,JUN * | never fires",
        "'1,,2 * * * *'   | minute field ''",
      })
  void refusesBadSpecsSayingWhy(String spec, String problem) {
    assertThatThrownBy(() -> CronSpec.parse(spec))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + spec + "'")
        .hasMessageContaining(problem);
  }
}
