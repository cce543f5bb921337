package io.ballast.storage;

import java.util.Objects;

/**
 * An entity tag exactly as the server gave it (quotes included), opaque to callers. Backends send
 * it back unchanged in conditions. It is not a checksum: multipart uploads give ETags that are no
 * digest of the content, so integrity is carried by the snapshot's own SHA-256.
 */
public record ETag(String value) {

  public ETag {
    Objects.requireNonNull(value, "value");
    if (value.isBlank()) {
      throw new IllegalArgumentException("ETag is blank");
    }
  }

  public static ETag of(String value) {
    return new ETag(value);
  }

  @Override
  public String toString() {
    return value;
  }
}
