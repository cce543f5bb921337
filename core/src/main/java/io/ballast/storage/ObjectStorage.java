package io.ballast.storage;

import java.nio.ByteBuffer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One bucket (or container, or folder) of a blob store. Deliberately minimal: snapshot versioning,
 * checksums of content and retries live above it, in core, so that a backend is a thin translation
 * of its SDK. Keep this surface small; a new method must be implementable on every backend.
 *
 * <p>All methods are lazy: nothing happens until subscription. Failures arrive as error signals of
 * the {@link StorageException} family, never as exceptions thrown from the method. Every operation
 * on a bucket that does not exist fails with {@link MissingBucketException}: a bucket is never
 * created here, and a missing one is never read as empty.
 */
public interface ObjectStorage {

  /** A short description for logs and errors, e.g. {@code filesystem:/var/ballast/resources}. */
  String describe();

  /**
   * Completes when the bucket itself exists; fails with {@link MissingBucketException} when it does
   * not, or with another {@link StorageException} when that cannot be told (unreachable, access
   * denied). Nothing is created: a node checks its buckets through this at start, a CP refusing to
   * start and a DP reporting itself not ready while one is missing.
   */
  Mono<Void> checkExists();

  /**
   * Stores {@code body} under {@code key}. Readers never observe a partly written object: they see
   * the previous content or the new one.
   *
   * <p>{@link WriteCondition.IfAbsent} fails with {@link ConditionFailedException} when the key
   * exists; {@link WriteCondition.IfMatch} fails with it when the current ETag differs or the
   * object is missing. Of concurrent conditional writers at most one succeeds.
   *
   * @return the stored object's metadata, with its new ETag
   */
  Mono<ObjectMeta> put(ObjectKey key, Flux<ByteBuffer> body, PutOptions options);

  /**
   * Reads {@code key}. Absence is {@link ReadResult.NotFound}; a satisfied If-None-Match is {@link
   * ReadResult.NotModified} and transfers no body.
   */
  Mono<ReadResult> get(ObjectKey key, ReadCondition condition);

  /** The object's metadata, or empty when it does not exist. */
  Mono<ObjectMeta> head(ObjectKey key);

  /**
   * Every object whose key starts with {@code prefix + "/"}, at any depth, in ascending key order.
   */
  Flux<ObjectMeta> list(ObjectKey prefix);

  /** Removes {@code key}; completes normally when it does not exist. */
  Mono<Void> delete(ObjectKey key);
}
