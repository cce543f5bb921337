package io.ballast.storage;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * What a backend knows of one stored object. {@code metadata} holds the user metadata given at put
 * time (keys are lower-case letters, digits and underscores, the subset every backend keeps).
 */
public record ObjectMeta(
    ObjectKey key, ETag etag, long size, Instant lastModified, Map<String, String> metadata) {

  public ObjectMeta {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(etag, "etag");
    Objects.requireNonNull(lastModified, "lastModified");
    metadata = Map.copyOf(metadata);
  }
}
