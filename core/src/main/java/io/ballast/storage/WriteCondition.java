package io.ballast.storage;

import java.util.Objects;

/** The server-side precondition of a put. A failed one ends in {@link ConditionFailedException}. */
public sealed interface WriteCondition {

  /** Write unconditionally. */
  WriteCondition NONE = new None();

  /** Create only: fail when the key exists (If-None-Match: *). */
  WriteCondition IF_ABSENT = new IfAbsent();

  static WriteCondition ifMatch(ETag etag) {
    return new IfMatch(etag);
  }

  record None() implements WriteCondition {}

  record IfAbsent() implements WriteCondition {}

  /** Replace only the version with this ETag; fail when the object changed or is missing. */
  record IfMatch(ETag etag) implements WriteCondition {
    public IfMatch {
      Objects.requireNonNull(etag, "etag");
    }
  }
}
