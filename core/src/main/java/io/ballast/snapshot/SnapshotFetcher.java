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
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Downloads the newest snapshot a bucket's pointer names and verifies it against its manifest.
 * Applies nothing: callers validate the content and decide whether to switch to it.
 */
public final class SnapshotFetcher {

  private static final Logger log = LoggerFactory.getLogger(SnapshotFetcher.class);

  private final ObjectStorage bucket;
  private final SnapshotLayout layout;

  public SnapshotFetcher(ObjectStorage bucket, SnapshotLayout layout) {
    this.bucket = Objects.requireNonNull(bucket, "bucket");
    this.layout = Objects.requireNonNull(layout, "layout");
  }

  /**
   * Reads the pointer with If-None-Match {@code knownPointerEtag} and, when it changed, streams the
   * body it names into a new file in {@code downloadDir} and verifies its size and SHA-256. A body
   * pruned between the two reads makes it start once more from the pointer.
   *
   * @param knownPointerEtag the pointer ETag of the snapshot the caller has, or {@code null}
   * @return {@link FetchResult.NotModified}, {@link FetchResult.Missing} or a verified {@link
   *     FetchResult.Fetched}; a body that fails verification is deleted and ends in {@link
   *     SnapshotIntegrityException}
   */
  public Mono<FetchResult> fetchLatest(ETag knownPointerEtag, Path downloadDir) {
    return Mono.defer(() -> fetch(knownPointerEtag, downloadDir, true));
  }

  private Mono<FetchResult> fetch(ETag known, Path downloadDir, boolean mayRetry) {
    ReadCondition condition = known == null ? ReadCondition.NONE : ReadCondition.ifNoneMatch(known);
    return bucket
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
              return Pointers.parse(pointer, layout)
                  .flatMap(
                      manifest ->
                          fetchBody(manifest, pointer.meta().etag(), known, downloadDir, mayRetry));
            });
  }

  private Mono<FetchResult> fetchBody(
      SnapshotManifest manifest, ETag pointerEtag, ETag known, Path downloadDir, boolean mayRetry) {
    ObjectKey key = ObjectKey.of(manifest.bodyKey());
    return bucket
        .get(key, ReadCondition.NONE)
        .flatMap(
            result -> {
              if (result instanceof ReadResult.Found found) {
                return download(found, manifest, downloadDir)
                    .map(file -> new FetchResult.Fetched(manifest, pointerEtag, file));
              }
              if (mayRetry) {
                log.info(
                    "snapshot body {} is gone (pruned after the pointer was read); reading {}"
                        + " again",
                    key,
                    layout.latestKey());
                return fetch(known, downloadDir, false);
              }
              return Mono.error(
                  new ObjectNotFoundException(
                      "snapshot body "
                          + key
                          + " named by "
                          + layout.latestKey()
                          + " (version "
                          + manifest.version()
                          + ") does not exist in "
                          + bucket.describe()));
            });
  }

  /** Streams the body into a new file and verifies it; the file is deleted on any failure. */
  private Mono<Path> download(ReadResult.Found found, SnapshotManifest manifest, Path dir) {
    return Mono.fromCallable(
            () ->
                PrivateFiles.createTempFile(
                    dir, "snapshot-" + manifest.version() + "-", ".ndjson.gz"))
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
}
