package io.ballast.config;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.Month;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * API7's {@code cron_spec}: what Go's robfig/cron accepts with its standard parser. Either
 * {@code @every <duration>} ({@code @every 1m}), a descriptor ({@code @hourly}, {@code @daily} or
 * {@code @midnight}, {@code @weekly}, {@code @monthly}, {@code @yearly} or {@code @annually}), or
 * five fields: minute, hour, day of month, month, day of week. Fields take {@code *}, numbers,
 * ranges {@code a-b}, lists {@code a,b}, steps <code>&#42;/n</code>, {@code a-b/n} and {@code a/n},
 * month names JAN-DEC and weekday names SUN-SAT (0 and 7 are both Sunday), and {@code ?} for {@code
 * *} in the day fields. When both day fields are restricted a day matches if either one does.
 */
public final class CronSpec {

  private static final List<String> MONTHS =
      List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC");
  private static final List<String> WEEKDAYS =
      List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT");

  // A date that matches is never more than eight years away (29 February across 2100); past
  // this the spec cannot fire, which parse() already refuses, so this only guards the loop.
  private static final int MAX_YEARS_AHEAD = 10;

  private final String spec;
  private final Duration every;
  private final long minutes;
  private final long hours;
  private final long daysOfMonth;
  private final long months;
  private final long daysOfWeek;
  private final boolean anyDayOfMonth;
  private final boolean anyDayOfWeek;

  private CronSpec(String spec, Duration every) {
    this(spec, every, 0, 0, 0, 0, 0, true, true);
  }

  private CronSpec(
      String spec,
      Duration every,
      long minutes,
      long hours,
      long daysOfMonth,
      long months,
      long daysOfWeek,
      boolean anyDayOfMonth,
      boolean anyDayOfWeek) {
    this.spec = spec;
    this.every = every;
    this.minutes = minutes;
    this.hours = hours;
    this.daysOfMonth = daysOfMonth;
    this.months = months;
    this.daysOfWeek = daysOfWeek;
    this.anyDayOfMonth = anyDayOfMonth;
    this.anyDayOfWeek = anyDayOfWeek;
  }

  /**
   * @throws IllegalArgumentException saying what is wrong with {@code spec}
   */
  public static CronSpec parse(String spec) {
    Objects.requireNonNull(spec, "spec");
    String text = spec.trim();
    if (text.startsWith("@every")) {
      return parseEvery(spec, text.substring("@every".length()).trim());
    }
    String fields =
        switch (text) {
          case "@yearly", "@annually" -> "0 0 1 1 *";
          case "@monthly" -> "0 0 1 * *";
          case "@weekly" -> "0 0 * * 0";
          case "@daily", "@midnight" -> "0 0 * * *";
          case "@hourly" -> "0 * * * *";
          default -> text;
        };
    if (fields.startsWith("@")) {
      throw new IllegalArgumentException(
          "'"
              + spec
              + "' is not a cron spec: known descriptors are @every <duration>, @hourly, @daily,"
              + " @midnight, @weekly, @monthly, @yearly, @annually");
    }
    return parseFields(spec, fields);
  }

  private static CronSpec parseEvery(String spec, String duration) {
    Duration interval;
    try {
      interval = GoDuration.parse(duration);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + spec + "': " + e.getMessage(), e);
    }
    // robfig/cron rounds anything shorter up to one second; refusing it says so instead.
    if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("'" + spec + "': the interval must be at least 1s");
    }
    return new CronSpec(spec, interval);
  }

  private static CronSpec parseFields(String spec, String text) {
    String[] f = text.split("\\s+");
    if (f.length != 5) {
      throw new IllegalArgumentException(
          "'"
              + spec
              + "' has "
              + f.length
              + " fields; a cron spec has 5 (minute hour day-of-month month day-of-week) or is"
              + " @every <duration>");
    }
    long dom = new Field(spec, "day-of-month", 1, 31, List.of(), true).parse(f[2]);
    long month = new Field(spec, "month", 1, 12, MONTHS, false).parse(f[3]);
    long dow = new Field(spec, "day-of-week", 0, 7, WEEKDAYS, true).parse(f[4]);
    // 7 is Sunday as well as 0.
    dow = (dow | (dow >>> 7)) & 0x7F;
    boolean anyDom = isStar(f[2]);
    boolean anyDow = isStar(f[4]);
    CronSpec cron =
        new CronSpec(
            spec,
            null,
            new Field(spec, "minute", 0, 59, List.of(), false).parse(f[0]),
            new Field(spec, "hour", 0, 23, List.of(), false).parse(f[1]),
            dom,
            month,
            dow,
            anyDom,
            anyDow);
    if (!anyDom && anyDow && !cron.someMonthHasADay()) {
      throw new IllegalArgumentException(
          "'" + spec + "' never fires: no chosen month has the chosen day of month");
    }
    return cron;
  }

  // Like robfig/cron: only a bare * or ? leaves a day field unrestricted; */2 restricts it.
  private static boolean isStar(String field) {
    return field.equals("*") || field.equals("?") || field.equals("*/1");
  }

  private boolean someMonthHasADay() {
    for (Month m : Month.values()) {
      if (has(months, m.getValue()) && Long.numberOfTrailingZeros(daysOfMonth) <= m.maxLength()) {
        return true;
      }
    }
    return false;
  }

  public String spec() {
    return spec;
  }

  /**
   * The first time this spec fires strictly after {@code after}, reading the fields in {@code
   * zone}; {@code @every} fires one interval after {@code after}.
   */
  public Instant next(Instant after, ZoneId zone) {
    if (every != null) {
      return after.plus(every);
    }
    // Search wall-clock time, then map it to the zone: a time skipped by a DST jump fires just
    // after the jump, and a repeated hour fires once, on its first occurrence.
    LocalDateTime from = LocalDateTime.ofInstant(after, zone);
    while (true) {
      LocalDateTime local = nextLocal(from);
      Instant candidate = ZonedDateTime.of(local, zone).toInstant();
      if (candidate.isAfter(after)) {
        return candidate;
      }
      from = local;
    }
  }

  /** The first matching wall-clock minute strictly after {@code after}. */
  private LocalDateTime nextLocal(LocalDateTime after) {
    LocalDateTime t = after.truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
    int lastYear = t.getYear() + MAX_YEARS_AHEAD;
    while (t.getYear() <= lastYear) {
      if (!has(months, t.getMonthValue())) {
        t = t.toLocalDate().withDayOfMonth(1).plusMonths(1).atStartOfDay();
      } else if (!dayMatches(t)) {
        t = t.toLocalDate().plusDays(1).atStartOfDay();
      } else if (!has(hours, t.getHour())) {
        t = t.truncatedTo(ChronoUnit.HOURS).plusHours(1);
      } else if (!has(minutes, t.getMinute())) {
        t = t.plusMinutes(1);
      } else {
        return t;
      }
    }
    throw new IllegalStateException("cron spec '" + spec + "' does not fire after " + after);
  }

  private boolean dayMatches(LocalDateTime t) {
    boolean dom = has(daysOfMonth, t.getDayOfMonth());
    boolean dow = has(daysOfWeek, t.getDayOfWeek().getValue() % 7);
    if (anyDayOfMonth || anyDayOfWeek) {
      return dom && dow;
    }
    return dom || dow;
  }

  private static boolean has(long bits, int value) {
    return (bits & (1L << value)) != 0;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CronSpec other && spec.equals(other.spec);
  }

  @Override
  public int hashCode() {
    return spec.hashCode();
  }

  @Override
  public String toString() {
    return spec;
  }

  /** One of the five fields: its bounds and names, parsed into a bit per allowed value. */
  private record Field(
      String spec, String name, int min, int max, List<String> names, boolean question) {

    long parse(String text) {
      long bits = 0;
      for (String part : text.split(",", -1)) {
        bits |= part(part);
      }
      return bits;
    }

    private long part(String part) {
      String range = part;
      int step = 1;
      int slash = part.indexOf('/');
      if (slash >= 0) {
        range = part.substring(0, slash);
        step = number(part.substring(slash + 1), part);
        if (step < 1) {
          throw bad(part, "the step must be at least 1");
        }
      }
      int low;
      int high;
      if (range.equals("*") || (question && range.equals("?"))) {
        low = min;
        high = max;
      } else {
        int dash = range.indexOf('-');
        low = value(dash < 0 ? range : range.substring(0, dash), part);
        // "a/n" means from a to the end, as robfig/cron reads it.
        high = dash >= 0 ? value(range.substring(dash + 1), part) : slash >= 0 ? max : low;
      }
      if (low > high) {
        throw bad(part, "the range starts after it ends");
      }
      long bits = 0;
      for (int v = low; v <= high; v += step) {
        bits |= 1L << v;
      }
      return bits;
    }

    private int value(String text, String part) {
      int index = names.indexOf(text.toUpperCase(Locale.ROOT));
      int v = index >= 0 ? index + min : number(text, part);
      if (v < min || v > max) {
        throw bad(part, text + " is outside " + min + "-" + max);
      }
      return v;
    }

    private int number(String text, String part) {
      if (text.isEmpty() || !text.chars().allMatch(Character::isDigit) || text.length() > 3) {
        throw bad(part, "'" + text + "' is not a number" + (names.isEmpty() ? "" : " or a name"));
      }
      return Integer.parseInt(text);
    }

    private IllegalArgumentException bad(String part, String problem) {
      return new IllegalArgumentException(
          "'" + spec + "': " + name + " field '" + part + "': " + problem);
    }
  }
}
