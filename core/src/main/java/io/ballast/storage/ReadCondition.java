package io.ballast.storage;

import java.util.Objects;

/** The precondition of a get. */
public sealed interface ReadCondition {

  ReadCondition NONE = new None();

  static ReadCondition ifNoneMatch(ETag etag) {
    return new IfNoneMatch(etag);
  }

  record None() implements ReadCondition {}

  /** Answer {@link ReadResult.NotModified} with no body while the object still has this ETag. */
  record IfNoneMatch(ETag etag) implements ReadCondition {
    public IfNoneMatch {
      Objects.requireNonNull(etag, "etag");
    }
  }
}
