package io.ballast.dataplane;

import io.ballast.gateway.plugin.PluginRegistry;
import io.ballast.gateway.route.RouteTable;
import io.ballast.resource.ResourceSet;
import io.ballast.seal.Sealing;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.SnapshotContent;
import io.ballast.snapshot.SnapshotFormatException;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.storage.ETag;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place a data plane changes what it serves. A candidate export (both parts) is read,
 * validated and compiled into a route table entirely off the request path; only then is it swapped
 * in with one reference write, so requests in flight finish on the table they started with. A
 * candidate that fails anywhere leaves the serving configuration untouched and is reported in the
 * status. The serving version never goes down.
 */
public final class SnapshotApplier {

  private static final Logger log = LoggerFactory.getLogger(SnapshotApplier.class);
  private static final RouteTable EMPTY = RouteTable.empty();

  /**
   * Where a snapshot came from, as the status endpoint names it; declared from the least to the
   * most authoritative, which decides the label when two sources deliver the same version.
   */
  public enum Source {
    CACHE,
    /** APISIX's standalone file, {@code conf/apisix.yaml} or {@code conf/apisix.json}. */
    FILE,
    STORAGE,
    CONTROL_PLANE;

    public String id() {
      return name().toLowerCase();
    }
  }

  /** What the DP serves now: both parts of one export. */
  public record Serving(
      RouteTable table, ExportManifest manifest, Source source, Instant appliedAt) {}

  /** The last snapshot refused, for the status endpoint. */
  public record Rejection(long version, Source source, String reason, Instant at) {}

  private final LocalCache cache;
  private final Clock clock;
  private final PluginRegistry plugins;
  private final Sealing sealing;
  private final AtomicReference<Serving> serving = new AtomicReference<>();
  private volatile Rejection lastRejection;

  public SnapshotApplier(LocalCache cache, Clock clock) {
    this(cache, clock, PluginRegistry.standard());
  }

  public SnapshotApplier(LocalCache cache, Clock clock, PluginRegistry plugins) {
    this(cache, clock, plugins, Sealing.off());
  }

  /**
   * @param sealing opens the sealed secrets of each snapshot in memory; a snapshot holding one it
   *     cannot open is refused, naming the resource and field
   */
  public SnapshotApplier(LocalCache cache, Clock clock, PluginRegistry plugins, Sealing sealing) {
    this.cache = cache;
    this.clock = clock;
    this.plugins = plugins;
    this.sealing = sealing;
  }

  /** The table for the next request: read once per request by the proxy. */
  public RouteTable table() {
    Serving current = serving.get();
    return current == null ? EMPTY : current.table();
  }

  public Optional<Serving> serving() {
    return Optional.ofNullable(serving.get());
  }

  /** The instance part served, which always has the version of the resources part. */
  public Optional<SnapshotManifest> instance() {
    return serving().map(s -> s.manifest().part(SnapshotKind.INSTANCE));
  }

  public Optional<Rejection> lastRejection() {
    return Optional.ofNullable(lastRejection);
  }

  /** Served version when nothing is served yet; a CP's empty store is version 0. */
  public static final long NONE = -1;

  /** The version of the export served, {@link #NONE} when none. */
  public long version() {
    Serving current = serving.get();
    return current == null ? NONE : current.manifest().version();
  }

  /**
   * Applies both parts of {@code export} if it is newer than what is served, or neither.
   *
   * @param storageEtag the storage pointer's ETag when the export came from storage
   * @return true when it is now served (newly, or it was the same version already); false when it
   *     is older than the one served or its content is refused
   * @throws java.io.UncheckedIOException when a body cannot be read: worth another try
   */
  public synchronized boolean apply(
      VerifiedExport export, Source source, Optional<ETag> storageEtag) {
    ExportManifest manifest = export.manifest();
    long current = version();
    if (manifest.version() < current) {
      log.info(
          "not applying export {} from {}: version {} is served",
          manifest.version(),
          source.id(),
          current);
      return false;
    }
    if (manifest.version() == current) {
      confirm(manifest.version(), source);
      return true;
    }
    try {
      ResourceSet resources =
          sealing.opened(SnapshotContent.readResources(export.part(SnapshotKind.RESOURCES).body()));
      RouteTable table = RouteTable.compile(resources, plugins, table());
      // Both parts switch together: the instance part is read from the same Serving.
      serving.set(new Serving(table, manifest, source, clock.instant()));
    } catch (SnapshotFormatException | IllegalArgumentException e) {
      // Content the DP will never accept (InvalidResourceException is one). An I/O failure
      // reading the body is not caught: the caller retries it instead of marking the version
      // refused.
      lastRejection = new Rejection(manifest.version(), source, e.getMessage(), clock.instant());
      log.error(
          "refused export {} from {}; still serving version {}: {}",
          manifest.version(),
          source.id(),
          current,
          e.getMessage());
      return false;
    }
    log.info(
        "now serving export {} from {} ({})",
        manifest.version(),
        source.id(),
        manifest.part(SnapshotKind.RESOURCES).counts());
    if (source != Source.CACHE) {
      try {
        cache.save(export, storageEtag);
      } catch (RuntimeException e) {
        log.warn("could not update the local cache: {}", e.getMessage());
      }
    }
    return true;
  }

  /** Records a refusal found before a snapshot reaches {@link #apply} (e.g. a bad checksum). */
  public void reject(long version, Source source, String reason) {
    lastRejection = new Rejection(version, source, reason, clock.instant());
    log.error("refused a snapshot from {}: {}", source.id(), reason);
  }

  /**
   * {@code source} holds the same version as the one served: when it is more authoritative than
   * where that version came from, say so in the status; the table stays.
   */
  public synchronized void confirm(long version, Source source) {
    Serving current = serving.get();
    if (current != null
        && current.manifest().version() == version
        && source.compareTo(current.source()) > 0) {
      serving.set(new Serving(current.table(), current.manifest(), source, current.appliedAt()));
    }
  }
}
