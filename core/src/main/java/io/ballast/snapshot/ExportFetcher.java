package io.ballast.snapshot;

import io.ballast.fs.PrivateFiles;
import io.ballast.storage.ETag;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectNotFoundException;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Reads the newest export one storage backend's pointer names: the pointer (If-None-Match its
 * ETag), its signature checked before any body is read, then both bodies verified against their
 * part manifests. Applies nothing: callers validate the content and decide whether to switch.
 */
public final class ExportFetcher {

  private static final Logger log = LoggerFactory.getLogger(ExportFetcher.class);

  private final ObjectStorage resourceBucket;
  private final ObjectStorage configBucket;
  private final ExportLayout layout;
  private final SignatureVerifier verifier;

  public ExportFetcher(
      ObjectStorage resourceBucket,
      ObjectStorage configBucket,
      ExportLayout layout,
      SignatureVerifier verifier) {
    this.resourceBucket = Objects.requireNonNull(resourceBucket, "resourceBucket");
    this.configBucket = Objects.requireNonNull(configBucket, "configBucket");
    this.layout = Objects.requireNonNull(layout, "layout");
    this.verifier = Objects.requireNonNull(verifier, "verifier");
  }

  /** Where this fetcher reads, for logs and status. */
  public String describe() {
    return resourceBucket.describe();
  }

  /**
   * Reads the pointer with If-None-Match {@code knownPointerEtag}; when it changed, checks its
   * signature and, if it names an export newer than {@code haveVersion}, streams both bodies into
   * new files in {@code downloadDir} and verifies them. A body pruned between the reads makes it
   * start once more from the pointer.
   *
   * @param knownPointerEtag the pointer ETag last seen, or {@code null}
   * @param haveVersion the version the caller serves; {@link ConfServerProtocol#NO_VERSION} for
   *     none
   * @return {@link FetchResult.NotModified}, {@link FetchResult.Missing}, {@link
   *     FetchResult.NoNewer} or a verified {@link FetchResult.Fetched}; a refused signature ends in
   *     {@link SnapshotIntegrityException} before any body is read, a body that fails verification
   *     is deleted and ends in {@link SnapshotIntegrityException}
   */
  public Mono<FetchResult> fetchLatest(ETag knownPointerEtag, long haveVersion, Path downloadDir) {
    return Mono.defer(() -> fetch(knownPointerEtag, haveVersion, downloadDir, true));
  }

  private Mono<FetchResult> fetch(
      ETag known, long haveVersion, Path downloadDir, boolean mayRetry) {
    ReadCondition condition = known == null ? ReadCondition.NONE : ReadCondition.ifNoneMatch(known);
    return resourceBucket
        .get(layout.latestKey(), condition)
        .flatMap(
            result -> {
              if (result instanceof ReadResult.NotModified) {
                return Mono.just(new FetchResult.NotModified(known));
              }
              if (result instanceof ReadResult.NotFound) {
                return Mono.just(new FetchResult.Missing());
              }
              ReadResult.Found pointer = (ReadResult.Found) result;
              ETag etag = pointer.meta().etag();
              return Pointers.parse(pointer, layout, verifier)
                  .flatMap(
                      signed ->
                          signed.version() <= haveVersion
                              ? Mono.just(new FetchResult.NoNewer(signed, etag))
                              : fetchBodies(
                                  signed, etag, known, haveVersion, downloadDir, mayRetry));
            });
  }

  private Mono<FetchResult> fetchBodies(
      SignedExport signed,
      ETag pointerEtag,
      ETag known,
      long haveVersion,
      Path downloadDir,
      boolean mayRetry) {
    Map<SnapshotKind, VerifiedSnapshot> parts = new EnumMap<>(SnapshotKind.class);
    return Flux.fromArray(SnapshotKind.values())
        .concatMap(kind -> fetchBody(signed.manifest().part(kind), downloadDir))
        .doOnNext(part -> parts.put(part.manifest().kind(), part))
        .then(
            Mono.fromCallable(
                () ->
                    (FetchResult)
                        new FetchResult.Fetched(new VerifiedExport(signed, parts), pointerEtag)))
        .onErrorResume(
            e -> {
              // Whatever was downloaded is the caller's only on success.
              parts.values().forEach(part -> deleteQuietly(part.body()));
              if (e instanceof BodyGone && mayRetry) {
                log.info(
                    "{} is gone (pruned after the pointer was read); reading {} again",
                    ((BodyGone) e).key,
                    layout.latestKey());
                return fetch(known, haveVersion, downloadDir, false);
              }
              if (e instanceof BodyGone gone) {
                return Mono.error(
                    new ObjectNotFoundException(
                        "snapshot body "
                            + gone.key
                            + " named by "
                            + layout.latestKey()
                            + " (version "
                            + signed.version()
                            + ") does not exist in "
                            + gone.where));
              }
              return Mono.error(e);
            });
  }

  private Mono<VerifiedSnapshot> fetchBody(SnapshotManifest part, Path downloadDir) {
    ObjectStorage bucket = part.kind() == SnapshotKind.RESOURCES ? resourceBucket : configBucket;
    ObjectKey key = ObjectKey.of(part.bodyKey());
    return bucket
        .get(key, ReadCondition.NONE)
        .flatMap(
            result ->
                result instanceof ReadResult.Found found
                    ? download(found, part, downloadDir)
                        .map(file -> new VerifiedSnapshot(part, file))
                    : Mono.error(new BodyGone(key, bucket.describe())));
  }

  /** Streams the body into a new file and verifies it; the file is deleted on any failure. */
  private static Mono<Path> download(ReadResult.Found found, SnapshotManifest manifest, Path dir) {
    return Mono.fromCallable(
            () ->
                PrivateFiles.createTempFile(
                    dir,
                    "export-" + manifest.version() + "-" + manifest.kind().id() + "-",
                    ".ndjson.gz"))
        .subscribeOn(Schedulers.boundedElastic())
        .flatMap(
            file ->
                ByteStreams.write(found.body(), file)
                    .then(
                        Mono.fromCallable(
                            () -> {
                              SnapshotFiles.verify(file, manifest);
                              return file;
                            }))
                    .onErrorResume(
                        e -> {
                          deleteQuietly(file);
                          return Mono.error(e);
                        }));
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.warn("cannot delete rejected snapshot download {}", file, e);
    }
  }

  /** A body the pointer names is not there (yet another retry decides what it means). */
  private static final class BodyGone extends RuntimeException {
    final ObjectKey key;
    final String where;

    BodyGone(ObjectKey key, String where) {
      super(key + " not found in " + where, null, false, false);
      this.key = key;
      this.where = where;
    }
  }
}
