package io.ballast.dataplane;

import io.ballast.snapshot.ExportFetcher;
import io.ballast.snapshot.VerifiedExport;
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

  /** Follows the CP's conf server. */
  Follower controlPlane(List<URI> hosts, String gatewayGroup, DataPlane dataPlane);

  /**
   * Polls one storage backend every {@code interval} while {@link DataPlane#pollsStorage()}.
   *
   * @param cachedPointer the storage pointer ETag of the cached export, if it came from storage
   */
  Follower storage(
      ExportFetcher fetcher, Duration interval, Optional<ETag> cachedPointer, DataPlane dataPlane);

  /** Serves APISIX's standalone file and follows its edits. */
  Follower standaloneFile(Deployment.File file, DataPlane dataPlane);

  /** Takes the exports that this node's own CP builds, in memory. */
  Follower localControlPlane(Flux<VerifiedExport> exports, DataPlane dataPlane);
}
