package io.ballast.snapshot;

import java.util.Map;
import java.util.Objects;

/**
 * What a manifest records of a body: the size and lower-case hex SHA-256 of its compressed bytes,
 * and how many entries of each type it holds.
 */
public record BodyStats(long size, String sha256Hex, Map<String, Long> counts) {

  public BodyStats {
    Objects.requireNonNull(sha256Hex, "sha256Hex");
    counts = Map.copyOf(counts);
  }
}
