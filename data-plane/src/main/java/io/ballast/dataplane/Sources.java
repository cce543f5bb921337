package io.ballast.dataplane;

import io.ballast.snapshot.SnapshotFetcher;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.VerifiedSnapshot;
import io.ballast.storage.ETag;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import reactor.core.publisher.Flux;

/**
 * The sources a data plane can follow. {@link DataPlane} decides which of them run; each method
 * returns a follower already started, reporting to {@code dataPlane}. {@link Followers} is the real
 * one; tests give fakes that report what the test says.
 */
public interface Sources {

  /** Follows the CP's conf server for {@code kind}. */
  Follower controlPlane(
      List<URI> hosts, String gatewayGroup, SnapshotKind kind, DataPlane dataPlane);

  /**
   * Polls storage for {@code kind} every {@code interval} while {@link DataPlane#pollsStorage()}.
   *
   * @param cachedPointer the storage pointer ETag of the cached snapshot, if it came from storage
   */
  Follower storage(
      SnapshotFetcher fetcher,
      Duration interval,
      SnapshotKind kind,
      Optional<ETag> cachedPointer,
      DataPlane dataPlane);

  /** Serves APISIX's standalone file and follows its edits. */
  Follower standaloneFile(Deployment.File file, DataPlane dataPlane);

  /** Takes the snapshots of {@code kind} that this node's own CP builds, in memory. */
  Follower localControlPlane(
      SnapshotKind kind, Flux<VerifiedSnapshot> updates, DataPlane dataPlane);
}
