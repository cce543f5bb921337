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
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
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
 * Publishes exports to one storage backend: both part bodies first (immutable, written
 * If-None-Match {@code *}; {@code resources} to {@code resource_bucket}, {@code instance} to {@code
 * config_bucket}), then the signed pointer {@code <group>/latest.json}, replaced only with If-Match
 * on the ETag it was read with, so concurrent control-plane replicas never move it to a lower
 * version. {@link #refresh} re-signs the pointer at the same version so that data planes can tell a
 * live control plane from one that stopped exporting.
 *
 * <p>The pointer is replaced only over an export of the same lineage (or the lineage the operator
 * chose to replace, {@code --lineage=store}): a second control plane with another store that
 * appears after this one's start check must not take turns with it in storage. Such a publish ends
 * in {@link PublishResult.OtherLineage}; the check sits beside the If-Match on the ETag it was read
 * with, so it holds against racing writers too.
 */
public final class ExportPublisher {

  /** Object metadata on every body. */
  public static final String META_VERSION = "snapshot_version";

  public static final String META_SHA256 = "body_sha256";

  private static final Logger log = LoggerFactory.getLogger(ExportPublisher.class);

  // A pointer write that failed because another replica moved the pointer forward is retried
  // without counting: that is progress, and it ends once the pointer reaches this version. These
  // attempts are for a pointer that changed without moving forward: S3 answers 409 to a
  // conditional write racing another, and a writer that ignores conditions can rewrite it.
  private static final int POINTER_ATTEMPTS = 5;
  private static final Duration FIRST_STALL_BACKOFF = Duration.ofMillis(20);

  private final ObjectStorage resourceBucket;
  private final ObjectStorage configBucket;
  private final ExportLayout layout;
  private final int retention;
  private final SnapshotSigner signer;
  private final Duration expireAfter;
  private final Clock clock;

  /**
   * @param retention how many bodies of each kind to keep, at least 1; older ones are deleted after
   *     a publish
   * @param expireAfter how long a signed pointer stays fresh ({@code fallback_cp.expire_after})
   */
  public ExportPublisher(
      ObjectStorage resourceBucket,
      ObjectStorage configBucket,
      ExportLayout layout,
      int retention,
      SnapshotSigner signer,
      Duration expireAfter,
      Clock clock) {
    this.resourceBucket = Objects.requireNonNull(resourceBucket, "resourceBucket");
    this.configBucket = Objects.requireNonNull(configBucket, "configBucket");
    this.layout = Objects.requireNonNull(layout, "layout");
    this.signer = Objects.requireNonNull(signer, "signer");
    this.expireAfter = Objects.requireNonNull(expireAfter, "expireAfter");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (retention < 1) {
      throw new IllegalArgumentException("snapshot retention " + retention + " must be at least 1");
    }
    this.retention = retention;
  }

  /** Where this publisher writes, for logs and status. */
  public String describe() {
    return resourceBucket.describe();
  }

  private ObjectStorage bucket(SnapshotKind kind) {
    return kind == SnapshotKind.RESOURCES ? resourceBucket : configBucket;
  }

  /**
   * Uploads both bodies of {@code export} and points {@code latest.json} at it, signed now, unless
   * the pointer already names this version or a newer one, or an export of another lineage.
   * Retrying a publish that failed half-way is safe: a body already stored with the same SHA-256 is
   * reused.
   */
  public Mono<PublishResult> publish(VerifiedExport export) {
    return publish(export, Optional.empty());
  }

  /**
   * As {@link #publish(VerifiedExport)}, and may also replace a pointer of {@code
   * replaceableLineage}: the lineage the operator chose to replace with this store's ({@code
   * --lineage=store}).
   */
  public Mono<PublishResult> publish(VerifiedExport export, Optional<String> replaceableLineage) {
    long version = export.version();
    LineageRule lineage = new LineageRule(export.manifest().lineage(), replaceableLineage);
    return Mono.defer(
            () ->
                readPointer()
                    .flatMap(
                        pointer -> {
                          if (!lineage.mayReplace(pointer)) {
                            return Mono.just(otherLineage(version, lineage, pointer));
                          }
                          if (pointer.isAtLeast(version)) {
                            return Mono.just(skipped(version, pointer));
                          }
                          return putBody(export.part(SnapshotKind.RESOURCES))
                              .switchIfEmpty(
                                  Mono.defer(() -> putBody(export.part(SnapshotKind.INSTANCE))))
                              .switchIfEmpty(
                                  Mono.defer(
                                      () ->
                                          swapPointer(
                                              sign(export.manifest()),
                                              pointer,
                                              lineage,
                                              POINTER_ATTEMPTS)));
                        }))
        .flatMap(
            result ->
                result instanceof PublishResult.Published published
                    ? prune(SnapshotKind.RESOURCES, published.signed().version())
                        .then(prune(SnapshotKind.INSTANCE, published.signed().version()))
                        .thenReturn(result)
                    : Mono.just(result));
  }

  /**
   * Re-signs the pointer with a new {@code signed_at}/{@code expires_at} when it names {@code
   * version}, with If-Match on its ETag; leaves any other pointer alone ({@link
   * PublishResult.Skipped}): a newer one is another exporter's, an older one needs {@link
   * #publish}.
   */
  public Mono<PublishResult> refresh(long version) {
    return Mono.defer(() -> refresh(version, POINTER_ATTEMPTS));
  }

  private Mono<PublishResult> refresh(long version, int attemptsLeft) {
    return readPointer()
        .flatMap(
            pointer -> {
              if (pointer.signed() == null || pointer.version() != version) {
                return Mono.just(new PublishResult.Skipped(pointer.version()));
              }
              SignedExport signed = sign(pointer.signed().manifest());
              return putPointer(signed, WriteCondition.ifMatch(pointer.etag()))
                  .<PublishResult>map(
                      meta -> {
                        log.debug(
                            "re-signed {} at version {} until {}",
                            layout.latestKey(),
                            version,
                            signed.manifest().expiresAt());
                        return new PublishResult.Published(signed, meta.etag());
                      })
                  .onErrorResume(
                      ConditionFailedException.class,
                      e ->
                          attemptsLeft <= 1
                              ? Mono.error(
                                  new SnapshotPublishException(
                                      "gave up re-signing "
                                          + layout.latestKey()
                                          + " in "
                                          + resourceBucket.describe()
                                          + " after "
                                          + POINTER_ATTEMPTS
                                          + " attempts: it keeps changing",
                                      e))
                              : Mono.delay(backoff(attemptsLeft))
                                  .then(Mono.defer(() -> refresh(version, attemptsLeft - 1))));
            });
  }

  private SignedExport sign(ExportManifest manifest) {
    Instant now = clock.instant();
    return signer.sign(manifest.resigned(now, now.plus(expireAfter)));
  }

  private PublishResult skipped(long version, Pointer pointer) {
    log.info(
        "export {} not published: {} in {} already names version {}",
        version,
        layout.latestKey(),
        resourceBucket.describe(),
        pointer.version());
    return new PublishResult.Skipped(pointer.version());
  }

  private PublishResult otherLineage(long version, LineageRule lineage, Pointer pointer) {
    String existing = pointer.signed().manifest().lineage();
    log.warn(
        "export {} of lineage {} not published: {} in {} names version {} of lineage {}",
        version,
        lineage.own(),
        layout.latestKey(),
        resourceBucket.describe(),
        pointer.version(),
        existing);
    return new PublishResult.OtherLineage(pointer.version(), existing, lineage.own());
  }

  private Mono<Pointer> readPointer() {
    return resourceBucket
        .get(layout.latestKey(), ReadCondition.NONE)
        .flatMap(
            result -> {
              if (result instanceof ReadResult.Found found) {
                // The publisher orders by version only; signatures are the data planes' check.
                return Pointers.parse(found, layout, SignatureVerifier.notRequired())
                    .map(signed -> new Pointer(signed, found.meta().etag()));
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
   * Stores one part's body and completes empty, or ends the publish early with a result when the
   * body turns out to be obsolete.
   */
  private Mono<PublishResult> putBody(VerifiedSnapshot part) {
    SnapshotManifest manifest = part.manifest();
    ObjectStorage bucket = bucket(manifest.kind());
    ObjectKey key = ObjectKey.of(manifest.bodyKey());
    PutOptions options =
        PutOptions.of(WriteCondition.IF_ABSENT)
            .withContentLength(manifest.bodySize())
            .withSha256Hex(manifest.bodySha256())
            .withMetadata(
                Map.of(
                    META_VERSION,
                    Long.toString(manifest.version()),
                    META_SHA256,
                    manifest.bodySha256()));
    return bucket
        .put(key, ByteStreams.read(part.body()), options)
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
                                ? sameBodyOrFail(bucket, existing.get(), manifest)
                                    .then(Mono.<PublishResult>empty())
                                : bodyVanished(bucket, manifest.version(), key, e)));
  }

  /**
   * The body existed when this publish tried to store it and was gone when it looked. A replica
   * that published a newer version prunes older bodies, so this version is obsolete then; with the
   * pointer still below it, someone else deleted the body and the publish fails.
   */
  private Mono<PublishResult> bodyVanished(
      ObjectStorage bucket, long version, ObjectKey key, Throwable cause) {
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
  private static Mono<Void> sameBodyOrFail(
      ObjectStorage bucket, ObjectMeta existing, SnapshotManifest manifest) {
    String existingSha = existing.metadata().get(META_SHA256);
    if (manifest.bodySha256().equals(existingSha)) {
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
                + manifest.bodySha256()
                + ")"));
  }

  private Mono<ObjectMeta> putPointer(SignedExport signed, WriteCondition condition) {
    byte[] json = signed.json();
    PutOptions options =
        PutOptions.of(condition).withContentLength(json.length).withSha256Hex(sha256Hex(json));
    return resourceBucket.put(
        layout.latestKey(), Flux.defer(() -> Flux.just(ByteBuffer.wrap(json))), options);
  }

  private Mono<PublishResult> swapPointer(
      SignedExport signed, Pointer current, LineageRule lineage, int attemptsLeft) {
    WriteCondition condition =
        current.etag() == null ? WriteCondition.IF_ABSENT : WriteCondition.ifMatch(current.etag());
    long version = signed.version();
    return putPointer(signed, condition)
        .<PublishResult>map(
            meta -> {
              log.info(
                  "published export {} to {} and moved {} to it",
                  version,
                  resourceBucket.describe(),
                  layout.latestKey());
              return new PublishResult.Published(signed, meta.etag());
            })
        .onErrorResume(
            ConditionFailedException.class,
            e ->
                readPointer()
                    .flatMap(
                        latest -> {
                          if (!lineage.mayReplace(latest)) {
                            return Mono.just(otherLineage(version, lineage, latest));
                          }
                          if (latest.isAtLeast(version)) {
                            return Mono.just(skipped(version, latest));
                          }
                          if (latest.version() > current.version()) {
                            return swapPointer(signed, latest, lineage, attemptsLeft);
                          }
                          if (attemptsLeft <= 1) {
                            return Mono.error(gaveUp(version, latest, e));
                          }
                          return Mono.delay(backoff(attemptsLeft))
                              .then(
                                  Mono.defer(
                                      () ->
                                          swapPointer(signed, latest, lineage, attemptsLeft - 1)));
                        }));
  }

  private static Duration backoff(int attemptsLeft) {
    return FIRST_STALL_BACKOFF.multipliedBy(1L << (POINTER_ATTEMPTS - attemptsLeft));
  }

  private SnapshotPublishException gaveUp(long version, Pointer latest, Throwable cause) {
    return new SnapshotPublishException(
        "gave up moving "
            + layout.latestKey()
            + " in "
            + resourceBucket.describe()
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
   * Deletes {@code kind}'s bodies older than {@code current} (the version the pointer names) beyond
   * the newest {@code retention}. Bodies newer than {@code current} are left alone: another replica
   * may be about to point at one.
   */
  private Mono<Void> prune(SnapshotKind kind, long current) {
    SnapshotLayout part = layout.part(kind);
    ObjectStorage bucket = bucket(kind);
    return bucket
        .list(part.snapshotsFolder())
        .map(ObjectMeta::key)
        .filter(key -> part.versionOf(key).isPresent())
        .collectSortedList(
            Comparator.comparingLong((ObjectKey key) -> part.versionOf(key).getAsLong()).reversed())
        .flatMapMany(keys -> Flux.fromIterable(keys).skip(retention))
        .filter(key -> part.versionOf(key).getAsLong() < current)
        .concatMap(
            key -> {
              log.info("pruning old snapshot body {} in {}", key, bucket.describe());
              return bucket.delete(key);
            })
        .then()
        .onErrorResume(
            e -> {
              log.warn(
                  "pruning old snapshot bodies under {} in {} failed; will retry on the next"
                      + " publish",
                  part.snapshotsFolder(),
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

  /** Which pointers a publish may replace: none yet, its own lineage's, or the one given up. */
  private record LineageRule(String own, Optional<String> replaceable) {

    boolean mayReplace(Pointer pointer) {
      if (pointer.signed() == null) {
        return true;
      }
      String existing = pointer.signed().manifest().lineage();
      return existing.equals(own) || replaceable.filter(existing::equals).isPresent();
    }
  }

  /** The pointer as read: its export and ETag, or neither when there is none yet. */
  private record Pointer(SignedExport signed, ETag etag) {
    static final Pointer NONE = new Pointer(null, null);

    boolean isAtLeast(long version) {
      return signed != null && signed.version() >= version;
    }

    /** The version it names, or -1 when there is no pointer. */
    long version() {
      return signed == null ? -1 : signed.version();
    }
  }
}
