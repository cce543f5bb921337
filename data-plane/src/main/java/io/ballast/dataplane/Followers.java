package io.ballast.dataplane;

import io.ballast.dataplane.SnapshotApplier.Source;
import io.ballast.snapshot.ExportFetcher;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.storage.ETag;
import io.netty.handler.ssl.SslContext;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/** The real sources: the CP over HTTP, object storage, the standalone file, the node's own CP. */
public final class Followers implements Sources {

  private static final Logger log = LoggerFactory.getLogger(Followers.class);

  private final Path downloadDir;
  private final Clock clock;
  private final Optional<SslContext> controlPlaneTls;
  private final SignatureVerifier verifier;

  /**
   * @param downloadDir where bodies are downloaded (and the standalone file's snapshots written)
   *     before they are applied
   */
  public Followers(Path downloadDir, Clock clock) {
    this(downloadDir, clock, Optional.empty(), SignatureVerifier.notRequired());
  }

  /**
   * @param controlPlaneTls the TLS context for {@code https://} control plane hosts ({@code
   *     deployment.certs}); without one, Reactor Netty's default (the JDK's CAs)
   * @param verifier checks the signature of every export manifest the CP sends (storage's fetchers
   *     carry their own)
   */
  public Followers(
      Path downloadDir,
      Clock clock,
      Optional<SslContext> controlPlaneTls,
      SignatureVerifier verifier) {
    this.downloadDir = downloadDir;
    this.clock = clock;
    this.controlPlaneTls = controlPlaneTls;
    this.verifier = verifier;
  }

  @Override
  public Follower controlPlane(List<URI> hosts, String gatewayGroup, DataPlane dataPlane) {
    ControlPlaneFollower follower =
        new ControlPlaneFollower(
            hosts, gatewayGroup, dataPlane, downloadDir, controlPlaneTls, verifier);
    follower.start();
    return follower;
  }

  @Override
  public Follower storage(
      ExportFetcher fetcher, Duration interval, Optional<ETag> cachedPointer, DataPlane dataPlane) {
    StorageFollower follower =
        new StorageFollower(
            fetcher, dataPlane, interval, dataPlane::pollsStorage, downloadDir, cachedPointer);
    follower.start();
    return follower;
  }

  @Override
  public Follower standaloneFile(Deployment.File file, DataPlane dataPlane) {
    StandaloneFileFollower follower =
        new StandaloneFileFollower(
            file.path(),
            file.format(),
            dataPlane,
            downloadDir,
            file.env(),
            file.pollInterval(),
            file.producer(),
            clock);
    follower.start();
    return follower;
  }

  @Override
  public Follower localControlPlane(Flux<VerifiedExport> exports, DataPlane dataPlane) {
    Disposable subscription =
        exports
            // Only the newest matters; an older file may already be pruned by the builder.
            .onBackpressureLatest()
            .publishOn(Schedulers.boundedElastic(), 1)
            .subscribe(
                export -> {
                  try {
                    dataPlane.offer(export, Source.CONTROL_PLANE, Optional.empty());
                  } catch (RuntimeException e) {
                    // Keep following: the next build supersedes this one.
                    log.error("could not apply export {}: {}", export.version(), e.toString());
                  }
                });
    return subscription::dispose;
  }
}
