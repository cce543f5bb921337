package io.ballast.snapshot;

import io.ballast.storage.ConditionFailedException;
import io.ballast.storage.ETag;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.WriteCondition;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Publishes snapshot bodies and moves the {@code latest.json} pointer forward. Bodies are immutable
 * (written If-None-Match {@code *}); the pointer is replaced only with If-Match on the ETag it was
 * read with, so concurrent control-plane replicas never move it to a lower version.
 */
public final class SnapshotPublisher {

  /** Object metadata on every body. */
  public static final String META_VERSION = "snapshot_version";

  public static final String META_SHA256 = "body_sha256";

  private static final Logger log = LoggerFactory.getLogger(SnapshotPublisher.class);

  // A pointer write that failed because another replica moved the pointer forward is retried
  // without counting: that is progress, and it ends once the pointer reaches this version. These
  // attempts are for a pointer that changed without moving forward: S3 answers 409 to a
  // conditional write racing another, and a writer that ignores conditions can rewrite it.
  private static final int POINTER_ATTEMPTS = 5;
  private static final Duration FIRST_STALL_BACKOFF = Duration.ofMillis(20);

  private final ObjectStorage bucket;
  private final SnapshotLayout layout;
  private final int retention;
  private final String producer;
  private final Clock clock;

  /**
   * @param retention how many bodies to keep, at least 1; older ones are deleted after a publish
   * @param producer who publishes, recorded in the manifest (e.g. the CP's node id)
   */
  public SnapshotPublisher(
      ObjectStorage bucket, SnapshotLayout layout, int retention, String producer, Clock clock) {
    this.bucket = Objects.requireNonNull(bucket, "bucket");
    this.layout = Objects.requireNonNull(layout, "layout");
    this.producer = Objects.requireNonNull(producer, "producer");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (retention < 1) {
      throw new IllegalArgumentException("snapshot retention " + retention + " must be at least 1");
    }
    this.retention = retention;
  }

  /**
   * Uploads {@code bodyFile} as snapshot {@code version} and points {@code latest.json} at it,
   * unless the pointer already names this version or a newer one. Retrying a publish that failed
   * half-way is safe: a body already stored with the same SHA-256 is reused.
   *
   * @param stats the body's size, SHA-256 and counts, as {@link SnapshotBodyWriter#finish()} gave
   */
  public Mono<PublishResult> publish(long version, Path bodyFile, BodyStats stats) {
    return Mono.defer(
            () ->
                readPointer()
                    .flatMap(
                        pointer -> {
                          if (pointer.isAtLeast(version)) {
                            return Mono.just(skipped(version, pointer));
                          }
                          SnapshotManifest manifest =
                              SnapshotManifest.of(
                                  layout.gatewayGroup(),
                                  layout.kind(),
                                  version,
                                  clock.instant(),
                                  producer,
                                  layout.bodyKey(version).value(),
                                  stats);
                          return putBody(version, bodyFile, stats)
                              .switchIfEmpty(
                                  Mono.defer(
                                      () -> swapPointer(manifest, pointer, POINTER_ATTEMPTS)));
                        }))
        .flatMap(
            result ->
                result instanceof PublishResult.Published published
                    ? prune(published.manifest().version()).thenReturn(result)
                    : Mono.just(result));
  }

  private PublishResult skipped(long version, Pointer pointer) {
    log.info(
        "snapshot {} not published: {} already names version {}",
        version,
        layout.latestKey(),
        pointer.manifest().version());
    return new PublishResult.Skipped(pointer.manifest().version());
  }

  private Mono<Pointer> readPointer() {
    return bucket
        .get(layout.latestKey(), ReadCondition.NONE)
        .flatMap(
            result -> {
              if (result instanceof ReadResult.Found found) {
                return Pointers.parse(found, layout)
                    .map(manifest -> new Pointer(manifest, found.meta().etag()));
              }
              if (result instanceof ReadResult.NotFound) {
                return Mono.just(Pointer.NONE);
              }
              return Mono.error(
                  new IllegalStateException(
                      "unconditional get of " + layout.latestKey() + " answered " + result));
            });
  }

  /**
   * Stores the body and completes empty, or ends the publish early with a result when the body
   * turns out to be obsolete.
   */
  private Mono<PublishResult> putBody(long version, Path bodyFile, BodyStats stats) {
    ObjectKey key = layout.bodyKey(version);
    PutOptions options =
        PutOptions.of(WriteCondition.IF_ABSENT)
            .withContentLength(stats.size())
            .withSha256Hex(stats.sha256Hex())
            .withMetadata(
                Map.of(META_VERSION, Long.toString(version), META_SHA256, stats.sha256Hex()));
    return bucket
        .put(key, ByteStreams.read(bodyFile), options)
        .then(Mono.<PublishResult>empty())
        .onErrorResume(
            ConditionFailedException.class,
            e ->
                bucket
                    .head(key)
                    .map(Optional::of)
                    .defaultIfEmpty(Optional.empty())
                    .flatMap(
                        existing ->
                            existing.isPresent()
                                ? sameBodyOrFail(existing.get(), stats)
                                    .then(Mono.<PublishResult>empty())
                                : bodyVanished(version, key, e)));
  }

  /**
   * The body existed when this publish tried to store it and was gone when it looked. A replica
   * that published a newer version prunes older bodies, so this version is obsolete then; with the
   * pointer still below it, someone else deleted the body and the publish fails.
   */
  private Mono<PublishResult> bodyVanished(long version, ObjectKey key, Throwable cause) {
    return readPointer()
        .flatMap(
            latest ->
                latest.isAtLeast(version)
                    ? Mono.just(skipped(version, latest))
                    : Mono.error(
                        new SnapshotPublishException(
                            "snapshot body "
                                + key
                                + " in "
                                + bucket.describe()
                                + " existed and then vanished while publishing",
                            cause)));
  }

  /** A retried publish finds its own body; anything else under that key is a conflict. */
  private Mono<Void> sameBodyOrFail(ObjectMeta existing, BodyStats stats) {
    String existingSha = existing.metadata().get(META_SHA256);
    if (stats.sha256Hex().equals(existingSha)) {
      log.info("snapshot body {} already stored with the same content; reusing it", existing.key());
      return Mono.empty();
    }
    return Mono.error(
        new SnapshotPublishException(
            "snapshot body "
                + existing.key()
                + " in "
                + bucket.describe()
                + " already exists with other content (sha256 "
                + existingSha
                + ", publishing "
                + stats.sha256Hex()
                + ")"));
  }

  private Mono<PublishResult> swapPointer(
      SnapshotManifest manifest, Pointer current, int attemptsLeft) {
    byte[] json = manifest.toJson();
    WriteCondition condition =
        current.etag() == null ? WriteCondition.IF_ABSENT : WriteCondition.ifMatch(current.etag());
    PutOptions options =
        PutOptions.of(condition).withContentLength(json.length).withSha256Hex(sha256Hex(json));
    return bucket
        .put(layout.latestKey(), Flux.defer(() -> Flux.just(ByteBuffer.wrap(json))), options)
        .<PublishResult>map(
            meta -> {
              log.info(
                  "published snapshot {} ({} bytes) and moved {} to it",
                  manifest.version(),
                  manifest.bodySize(),
                  layout.latestKey());
              return new PublishResult.Published(manifest, meta.etag());
            })
        .onErrorResume(
            ConditionFailedException.class,
            e ->
                readPointer()
                    .flatMap(
                        latest -> {
                          if (latest.isAtLeast(manifest.version())) {
                            return Mono.just(skipped(manifest.version(), latest));
                          }
                          if (latest.version() > current.version()) {
                            return swapPointer(manifest, latest, attemptsLeft);
                          }
                          if (attemptsLeft <= 1) {
                            return Mono.error(gaveUp(manifest.version(), latest, e));
                          }
                          Duration backoff =
                              FIRST_STALL_BACKOFF.multipliedBy(
                                  1L << (POINTER_ATTEMPTS - attemptsLeft));
                          return Mono.delay(backoff)
                              .then(
                                  Mono.defer(
                                      () -> swapPointer(manifest, latest, attemptsLeft - 1)));
                        }));
  }

  private SnapshotPublishException gaveUp(long version, Pointer latest, Throwable cause) {
    return new SnapshotPublishException(
        "gave up moving "
            + layout.latestKey()
            + " in "
            + bucket.describe()
            + " to version "
            + version
            + " after "
            + POINTER_ATTEMPTS
            + " attempts: it keeps changing without moving forward (now version "
            + latest.version()
            + "); another write may be in flight, or a writer ignores write conditions",
        cause);
  }

  /**
   * Deletes bodies older than {@code current} beyond the newest {@code retention}. Bodies newer
   * than {@code current} are left alone: another replica may be about to point at one.
   */
  private Mono<Void> prune(long current) {
    return bucket
        .list(layout.snapshotsFolder())
        .map(ObjectMeta::key)
        .filter(key -> layout.versionOf(key).isPresent())
        .collectSortedList(
            Comparator.comparingLong((ObjectKey key) -> layout.versionOf(key).getAsLong())
                .reversed())
        .flatMapMany(keys -> Flux.fromIterable(keys).skip(retention))
        .filter(key -> layout.versionOf(key).getAsLong() < current)
        .concatMap(
            key -> {
              log.info("pruning old snapshot body {}", key);
              return bucket.delete(key);
            })
        .then()
        .onErrorResume(
            e -> {
              log.warn(
                  "pruning old snapshot bodies under {} in {} failed; will retry on the next"
                      + " publish",
                  layout.snapshotsFolder(),
                  bucket.describe(),
                  e);
              return Mono.empty();
            });
  }

  private static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** The pointer as read: its manifest and ETag, or neither when there is none yet. */
  private record Pointer(SnapshotManifest manifest, ETag etag) {
    static final Pointer NONE = new Pointer(null, null);

    boolean isAtLeast(long version) {
      return manifest != null && manifest.version() >= version;
    }

    /** The version it names, or -1 when there is no pointer. */
    long version() {
      return manifest == null ? -1 : manifest.version();
    }
  }
}
