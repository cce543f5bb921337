package io.ballast.storage;

import java.nio.ByteBuffer;
import java.util.Objects;
import reactor.core.publisher.Flux;

/** The expected outcomes of a get are values, not errors. */
public sealed interface ReadResult {

  /**
   * The object and its content. The body must be subscribed exactly once (or cancelled); it is
   * streamed from the server and never held whole in memory.
   */
  record Found(ObjectMeta meta, Flux<ByteBuffer> body) implements ReadResult {
    public Found {
      Objects.requireNonNull(meta, "meta");
      Objects.requireNonNull(body, "body");
    }
  }

  /** The object still has the ETag of the If-None-Match condition; no body was transferred. */
  record NotModified(ObjectKey key, ETag etag) implements ReadResult {}

  record NotFound(ObjectKey key) implements ReadResult {}
}
