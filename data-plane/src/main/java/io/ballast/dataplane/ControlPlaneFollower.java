package io.ballast.dataplane;

import io.ballast.dataplane.SnapshotApplier.Source;
import io.ballast.snapshot.ConfServerProtocol;
import io.ballast.snapshot.SnapshotFiles;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.snapshot.VerifiedSnapshot;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

/**
 * Follows the control plane's conf server for one snapshot kind: long polls for a newer manifest,
 * downloads the body it names to a temp file, verifies it and offers it to the data plane. When the
 * CP cannot be reached the DP keeps serving; this loop retries with jittered exponential backoff
 * (200 ms to 5 s) over the configured CP hosts and follows again as soon as one answers. Each
 * answer and each failure is reported to the {@link DataPlane}, which decides what they mean.
 */
public final class ControlPlaneFollower implements Follower {

  private static final Logger log = LoggerFactory.getLogger(ControlPlaneFollower.class);
  private static final Duration LONG_POLL = Duration.ofSeconds(30);

  private final List<URI> hosts;
  private final String gatewayGroup;
  private final SnapshotKind kind;
  private final DataPlane dataPlane;
  private final Path downloadDir;
  private final HttpClient http;
  private final AtomicInteger hostIndex = new AtomicInteger();

  /**
   * The newest version refused, so that the long poll waits for a newer one instead of spinning.
   */
  private volatile long refused = SnapshotApplier.NONE;

  /** Whether the last poll got a 304 or 200 (and so the next may wait for a change). */
  private volatile boolean answered;

  private Disposable loop;

  public ControlPlaneFollower(
      List<URI> hosts,
      String gatewayGroup,
      SnapshotKind kind,
      DataPlane dataPlane,
      Path downloadDir) {
    this.hosts = hosts;
    this.gatewayGroup = gatewayGroup;
    this.kind = kind;
    this.dataPlane = dataPlane;
    this.downloadDir = downloadDir;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
  }

  public void start() {
    loop =
        Mono.defer(this::pollOnce)
            .retryWhen(
                Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200))
                    .maxBackoff(Duration.ofSeconds(5))
                    .jitter(0.5)
                    .transientErrors(true))
            .repeat()
            .subscribe();
  }

  /** One long poll; on a newer manifest, the download, verification and apply. */
  private Mono<Void> pollOnce() {
    URI base = hosts.get(Math.floorMod(hostIndex.get(), hosts.size()));
    long served = known();
    // Until this follower's last poll was answered, ask without waiting: the answer is what tells
    // the data plane (and so the storage followers, which stand down) that the CP is back, and a
    // 304
    // confirms a version this DP took from storage meanwhile.
    Duration wait = answered ? LONG_POLL : Duration.ZERO;
    HttpRequest.Builder request =
        HttpRequest.newBuilder(base.resolve(ConfServerProtocol.manifestPath(kind, wait)))
            .timeout(LONG_POLL.plusSeconds(10))
            .GET();
    if (served != SnapshotApplier.NONE) {
      request.header("If-None-Match", ConfServerProtocol.etagOf(served));
    }
    return Mono.fromFuture(() -> http.sendAsync(request.build(), BodyHandlers.ofByteArray()), true)
        .flatMap(
            response -> {
              return switch (response.statusCode()) {
                case 304 -> {
                  answered = true;
                  dataPlane.controlPlaneAnswered(base);
                  response
                      .headers()
                      .firstValue("ETag")
                      .filter(
                          etag -> etag.equals(ConfServerProtocol.etagOf(dataPlane.version(kind))))
                      .ifPresent(
                          etag ->
                              dataPlane.confirm(
                                  kind, dataPlane.version(kind), Source.CONTROL_PLANE));
                  yield Mono.<Void>empty();
                }
                case 200 -> {
                  answered = true;
                  dataPlane.controlPlaneAnswered(base);
                  yield fetchBody(base, SnapshotManifest.fromJson(response.body()));
                }
                default ->
                    Mono.error(
                        new IOException(
                            "control plane " + base + " answered " + response.statusCode()));
              };
            })
        .doOnError(
            error -> {
              answered = false;
              dataPlane.controlPlaneUnreachable(base, error);
              hostIndex.incrementAndGet();
            });
  }

  private Mono<Void> fetchBody(URI base, SnapshotManifest manifest) {
    if (manifest.version() <= known()) {
      return Mono.empty();
    }
    if (!manifest.gatewayGroup().equals(gatewayGroup) || manifest.kind() != kind) {
      // A CP of another gateway group (or a misrouted answer): never serve it.
      refused = manifest.version();
      dataPlane.reject(
          manifest.version(),
          Source.CONTROL_PLANE,
          "control plane "
              + base
              + " sent a "
              + manifest.kind().id()
              + " snapshot of gateway group '"
              + manifest.gatewayGroup()
              + "'; this node serves '"
              + gatewayGroup
              + "'");
      return Mono.empty();
    }
    URI url = base.resolve(ConfServerProtocol.bodyPath(kind, manifest.version()));
    return Mono.fromCallable(
            () -> {
              Files.createDirectories(downloadDir);
              return Files.createTempFile(downloadDir, kind.id() + "-", ".ndjson.gz");
            })
        .flatMap(
            temp ->
                Mono.fromFuture(
                        () ->
                            http.sendAsync(
                                HttpRequest.newBuilder(url)
                                    .timeout(Duration.ofSeconds(60))
                                    .GET()
                                    .build(),
                                BodyHandlers.ofFile(temp)),
                        true)
                    .publishOn(Schedulers.boundedElastic())
                    .flatMap(response -> applyDownloaded(response, manifest, temp))
                    .doFinally(signal -> deleteQuietly(temp)));
  }

  private Mono<Void> applyDownloaded(
      HttpResponse<Path> response, SnapshotManifest manifest, Path body) {
    if (response.statusCode() == 404) {
      // A newer snapshot replaced this one while we asked for it: the next poll gets it.
      return Mono.empty();
    }
    if (response.statusCode() != 200) {
      return Mono.error(
          new IOException(
              "control plane answered " + response.statusCode() + " for " + response.uri()));
    }
    try {
      SnapshotFiles.verify(body, manifest);
    } catch (RuntimeException e) {
      refused = manifest.version();
      dataPlane.reject(manifest.version(), Source.CONTROL_PLANE, e.getMessage());
      return Mono.empty();
    }
    if (!dataPlane.offer(
        new VerifiedSnapshot(manifest, body), Source.CONTROL_PLANE, Optional.empty())) {
      refused = manifest.version();
    }
    return Mono.empty();
  }

  private long known() {
    return Math.max(dataPlane.version(kind), refused);
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.debug("cannot delete {}: {}", file, e.toString());
    }
  }

  @Override
  public void close() {
    if (loop != null) {
      loop.dispose();
    }
  }
}
