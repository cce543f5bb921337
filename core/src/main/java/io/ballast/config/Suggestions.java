package io.ballast.config;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/**
 * "Did you mean …?" for a key or field name nobody knows: the known name closest to it, when one is
 * close enough to be the likely intent. Configuration keys and resource fields both use it, so a
 * typo reads the same wherever it is made.
 */
public final class Suggestions {

  private Suggestions() {}

  /**
   * The name in {@code known} closest to {@code given} by edit distance, ignoring case and the
   * difference between {@code -} and {@code _}; empty when none is within a third of the longer
   * name's length (at least one edit), so that unrelated names are not suggested.
   */
  public static Optional<String> closest(String given, Collection<String> known) {
    String wanted = normalize(given);
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : known) {
      int distance = distance(wanted, normalize(candidate));
      int allowed = Math.max(1, Math.max(wanted.length(), candidate.length()) / 3);
      if (distance <= allowed && distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
    return Optional.ofNullable(best);
  }

  /** {@code "; did you mean 'x'?"} for the closest known name, or nothing. */
  public static String didYouMean(String given, Collection<String> known) {
    return closest(given, known).map(name -> "; did you mean '" + name + "'?").orElse("");
  }

  private static String normalize(String name) {
    return name.toLowerCase(Locale.ROOT).replace('-', '_');
  }

  /** Levenshtein distance with adjacent transpositions counted as one edit. */
  private static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }
}
