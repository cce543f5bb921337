package io.ballast.dataplane;

import io.ballast.dataplane.SnapshotApplier.Source;
import io.ballast.fs.PrivateFiles;
import io.ballast.snapshot.ExportFetcher;
import io.ballast.snapshot.FetchResult;
import io.ballast.snapshot.SnapshotFormatException;
import io.ballast.snapshot.SnapshotIntegrityException;
import io.ballast.snapshot.VerifiedSnapshot;
import io.ballast.storage.ETag;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Polls one storage backend's export pointer with If-None-Match on its ETag (an unchanged pointer
 * costs nothing; a re-signed one at the version served costs no body) and offers a newer export,
 * both parts verified, to the data plane. Polls while {@code wanted} says so ({@link
 * DataPlane#pollsStorage()}).
 */
public final class StorageFollower implements Follower {

  private static final Logger log = LoggerFactory.getLogger(StorageFollower.class);

  private final ExportFetcher fetcher;
  private final DataPlane dataPlane;
  private final Duration interval;
  private final BooleanSupplier wanted;
  private final Path downloadDir;
  private volatile ETag pointerEtag;
  private volatile Instant lastPoll;
  private volatile String lastError;

  /** The version the pointer named when last read; -1 before. */
  private volatile long versionSeen = -1;

  private Disposable loop;

  public StorageFollower(
      ExportFetcher fetcher,
      DataPlane dataPlane,
      Duration interval,
      BooleanSupplier wanted,
      Path downloadDir,
      Optional<ETag> cachedPointerEtag) {
    this.fetcher = fetcher;
    this.dataPlane = dataPlane;
    this.interval = interval;
    this.wanted = wanted;
    this.downloadDir = downloadDir;
    this.pointerEtag = cachedPointerEtag.orElse(null);
  }

  public void start() {
    loop =
        Flux.interval(Duration.ZERO, interval)
            .onBackpressureDrop()
            .concatMap(tick -> wanted.getAsBoolean() ? pollOnce() : Mono.empty(), 1)
            .subscribe();
  }

  private Mono<Void> pollOnce() {
    lastPoll = Instant.now();
    return Mono.fromCallable(() -> PrivateFiles.createFolder(downloadDir))
        .then(Mono.defer(() -> fetcher.fetchLatest(pointerEtag, dataPlane.version(), downloadDir)))
        .doOnNext(
            result -> {
              // Cleared before handling, which may report a bucket that holds no snapshot yet.
              lastError = null;
              handle(result);
            })
        .then()
        .onErrorResume(
            error -> {
              lastError = error.getMessage();
              if (error instanceof SnapshotIntegrityException
                  || error instanceof SnapshotFormatException) {
                // The version is in the message (the body key); the manifest itself may be what
                // failed.
                dataPlane.reject(SnapshotApplier.NONE, Source.STORAGE, error.getMessage());
              } else {
                dataPlane.storageFailed(name(), error.getMessage());
              }
              log.warn("polling {} for an export failed: {}", fetcher.describe(), error.toString());
              return Mono.empty();
            });
  }

  private void handle(FetchResult result) {
    if (result instanceof FetchResult.Fetched fetched) {
      try {
        versionSeen = fetched.export().version();
        dataPlane.storageOffers(name(), fetched.export(), fetched.pointerEtag());
        // Remember the pointer whatever the outcome: re-reading an older or refused body gains
        // nothing; the next change of the pointer is what matters.
        pointerEtag = fetched.pointerEtag();
      } finally {
        for (VerifiedSnapshot part : fetched.export().parts().values()) {
          try {
            Files.deleteIfExists(part.body());
          } catch (IOException e) {
            log.debug("cannot delete {}: {}", part.body(), e.toString());
          }
        }
      }
    } else if (result instanceof FetchResult.NoNewer noNewer) {
      pointerEtag = noNewer.pointerEtag();
      versionSeen = noNewer.signed().version();
      dataPlane.storageHolds(name(), noNewer.signed().version());
    } else if (result instanceof FetchResult.NotModified) {
      dataPlane.storageUnchanged(name());
    } else if (result instanceof FetchResult.Missing) {
      lastError = "no export in " + fetcher.describe() + " yet";
      dataPlane.storageFailed(name(), lastError);
    }
  }

  /** The backend polled, as its bucket describes itself: one follower per backend. */
  public String name() {
    return fetcher.describe();
  }

  public Optional<Instant> lastPoll() {
    return Optional.ofNullable(lastPoll);
  }

  public Optional<String> lastError() {
    return Optional.ofNullable(lastError);
  }

  @Override
  public Map<String, Object> status() {
    Map<String, Object> status = new LinkedHashMap<>();
    lastPoll().ifPresent(t -> status.put("last_poll", t.toString()));
    lastError().ifPresent(e -> status.put("last_error", e));
    status.put("version_seen", versionSeen);
    return status;
  }

  @Override
  public void close() {
    if (loop != null) {
      loop.dispose();
    }
  }
}
