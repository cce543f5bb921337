package io.ballast.storage;

import java.util.Objects;

/**
 * The name of an object inside one bucket or container: slash-separated segments, validated once
 * here so that no backend sees a key it would interpret differently (a leading slash, an empty,
 * {@code .} or {@code ..} segment).
 */
public record ObjectKey(String value) implements Comparable<ObjectKey> {

  public ObjectKey {
    Objects.requireNonNull(value, "value");
    if (value.isBlank()) {
      throw new IllegalArgumentException("object key is blank");
    }
    if (value.startsWith("/") || value.endsWith("/")) {
      throw new IllegalArgumentException("object key '" + value + "' starts or ends with '/'");
    }
    for (String segment : value.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw new IllegalArgumentException(
            "object key '" + value + "' has an empty, '.' or '..' segment");
      }
    }
    if (value.chars().anyMatch(c -> c < 0x20 || c == 0x7f || c == '\\')) {
      throw new IllegalArgumentException(
          "object key '" + value + "' contains a control character or backslash");
    }
  }

  public static ObjectKey of(String value) {
    return new ObjectKey(value);
  }

  /** This key followed by {@code /} and {@code name}, which may itself contain slashes. */
  public ObjectKey resolve(String name) {
    return new ObjectKey(value + "/" + name);
  }

  /** The last segment. */
  public String fileName() {
    return value.substring(value.lastIndexOf('/') + 1);
  }

  @Override
  public int compareTo(ObjectKey other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
