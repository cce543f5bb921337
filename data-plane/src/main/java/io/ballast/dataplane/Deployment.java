package io.ballast.dataplane;

import io.ballast.dataplane.StandaloneFile.Format;
import io.ballast.snapshot.ExportFetcher;
import io.ballast.snapshot.VerifiedExport;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;

/** Where a data plane takes its configuration from, with what it needs to reach it. */
public sealed interface Deployment {

  /**
   * {@code deployment.role: data_plane} with {@code config_provider: control_plane}: follows the
   * CP; with {@code fallback_cp}, storage while the CP is unreachable.
   */
  record ControlPlane(List<URI> hosts, String gatewayGroup, Optional<Storage> fallback)
      implements Deployment {}

  /** API7's storage-only mode: {@code config_provider: yaml} with {@code fallback_cp}. */
  record StorageOnly(Storage storage) implements Deployment {}

  /** APISIX's standalone file, {@code conf/apisix.yaml} or {@code conf/apisix.json}. */
  record File(
      Path path,
      Format format,
      Function<String, String> env,
      Duration pollInterval,
      String producer)
      implements Deployment {}

  /**
   * {@code deployment.role: traditional}: both roles in one process, the DP takes the exports its
   * own CP builds, in memory, with the same checks.
   */
  record Traditional(Supplier<Flux<VerifiedExport>> exports) implements Deployment {}

  /** The storage a data plane polls: one fetcher per storage backend. */
  record Storage(List<ExportFetcher> fetchers, Duration pollInterval) {}
}
