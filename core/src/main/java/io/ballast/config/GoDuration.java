package io.ballast.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations written the way Go (and so API7's {@code cron_spec: '@every 1m'}) writes them: a
 * sequence of decimal numbers with units {@code ns us µs ms s m h}, e.g. {@code 1h30m}, {@code
 * 1.5s}, {@code 250ms}.
 */
public final class GoDuration {

  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

  private GoDuration() {}

  /**
   * @throws IllegalArgumentException saying what is wrong with {@code text}
   */
  public static Duration parse(String text) {
    String s = text.trim();
    if (s.isEmpty()) {
      throw new IllegalArgumentException("empty duration");
    }
    if (s.equals("0")) {
      return Duration.ZERO;
    }
    Matcher m = PART.matcher(s);
    int at = 0;
    long nanos = 0;
    while (at < s.length()) {
      if (!m.find(at) || m.start() != at) {
        throw new IllegalArgumentException(
            "'" + text + "' is not a duration like 30s, 1m or 1h30m");
      }
      double amount = Double.parseDouble(m.group(1));
      long unitNanos =
          switch (m.group(2)) {
            case "ns" -> 1L;
            case "us", "µs" -> 1_000L;
            case "ms" -> 1_000_000L;
            case "s" -> 1_000_000_000L;
            case "m" -> 60_000_000_000L;
            default -> 3_600_000_000_000L;
          };
      nanos = Math.addExact(nanos, Math.round(amount * unitNanos));
      at = m.end();
    }
    return Duration.ofNanos(nanos);
  }
}
