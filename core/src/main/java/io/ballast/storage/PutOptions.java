package io.ballast.storage;

import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How to store a body.
 *
 * @param contentLength the exact body length, or {@code -1} when unknown (the backend then streams
 *     in parts)
 * @param sha256Hex the lower-case hex SHA-256 of the body or {@code null}; when given, the backend
 *     (or the server) refuses a body that does not match it with {@link ChecksumMismatchException}
 * @param metadata user metadata; keys must match {@code [a-z][a-z0-9_]*} (Azure allows only C#
 *     identifiers, so no hyphens)
 * @param condition the write precondition
 */
public record PutOptions(
    long contentLength, String sha256Hex, Map<String, String> metadata, WriteCondition condition) {

  private static final Pattern METADATA_KEY = Pattern.compile("[a-z][a-z0-9_]*");
  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

  public PutOptions {
    if (contentLength < -1) {
      throw new IllegalArgumentException("contentLength " + contentLength + " < -1");
    }
    if (sha256Hex != null && !SHA256_HEX.matcher(sha256Hex).matches()) {
      throw new IllegalArgumentException("sha256Hex is not 64 lower-case hex digits");
    }
    metadata = Map.copyOf(metadata);
    for (String key : metadata.keySet()) {
      if (!METADATA_KEY.matcher(key).matches()) {
        throw new IllegalArgumentException(
            "metadata key '" + key + "' is not lower-case letters, digits and underscores");
      }
    }
    Objects.requireNonNull(condition, "condition");
  }

  public static PutOptions of(WriteCondition condition) {
    return new PutOptions(-1, null, Map.of(), condition);
  }

  public PutOptions withContentLength(long length) {
    return new PutOptions(length, sha256Hex, metadata, condition);
  }

  public PutOptions withSha256Hex(String hex) {
    return new PutOptions(contentLength, hex, metadata, condition);
  }

  public PutOptions withMetadata(Map<String, String> values) {
    return new PutOptions(contentLength, sha256Hex, values, condition);
  }
}
