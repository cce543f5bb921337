package io.ballast.dataplane;

import io.ballast.gateway.plugin.PluginRegistry;
import io.ballast.gateway.route.RouteTable;
import io.ballast.resource.ResourceSet;
import io.ballast.seal.Sealing;
import io.ballast.snapshot.SignedExport;
import io.ballast.snapshot.SnapshotContent;
import io.ballast.snapshot.SnapshotFormatException;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.snapshot.VerifiedSnapshot;
import io.ballast.storage.ETag;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place a data plane changes what it serves. A candidate snapshot is read, validated and
 * compiled into a route table entirely off the request path; only then is it swapped in with one
 * reference write, so requests in flight finish on the table they started with. A candidate that
 * fails anywhere leaves the serving configuration untouched and is reported in the status. The
 * serving version never goes down.
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

  /**
   * What the DP serves now.
   *
   * @param manifest the resources part's manifest
   * @param export the signed export it is part of; empty for a standalone file's snapshot
   */
  public record Serving(
      RouteTable table,
      SnapshotManifest manifest,
      Source source,
      Instant appliedAt,
      Optional<SignedExport> export) {

    public Serving(RouteTable table, SnapshotManifest manifest, Source source, Instant appliedAt) {
      this(table, manifest, source, appliedAt, Optional.empty());
    }

    /** When the configuration was built: the export's signed {@code created_at}. */
    public Instant createdAt() {
      return export.map(e -> e.manifest().createdAt()).orElse(manifest.createdAt());
    }
  }

  /** The last snapshot refused, for the status endpoint. */
  public record Rejection(long version, Source source, String reason, Instant at) {}

  private final LocalCache cache;
  private final Clock clock;
  private final PluginRegistry plugins;
  private final Sealing sealing;
  private final AtomicReference<Serving> serving = new AtomicReference<>();
  private volatile SnapshotManifest instance;
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

  public Optional<SnapshotManifest> instance() {
    return Optional.ofNullable(instance);
  }

  public Optional<Rejection> lastRejection() {
    return Optional.ofNullable(lastRejection);
  }

  /** Served version of a kind when nothing is served yet; a CP's empty store is version 0. */
  public static final long NONE = -1;

  /** The version served of {@code kind}, {@link #NONE} when none. */
  public long version(SnapshotKind kind) {
    if (kind == SnapshotKind.INSTANCE) {
      return instance == null ? NONE : instance.version();
    }
    Serving current = serving.get();
    return current == null ? NONE : current.manifest().version();
  }

  /**
   * Applies {@code snapshot} if it is newer than what is served.
   *
   * @param storageEtag the storage pointer's ETag when the snapshot came from storage
   * @return true when it is now served (newly, or it was the same version already); false when it
   *     is older than the one served or its content is refused
   * @throws java.io.UncheckedIOException when the body cannot be read: worth another try
   */
  public synchronized boolean apply(
      VerifiedSnapshot snapshot, Source source, Optional<ETag> storageEtag) {
    SnapshotManifest manifest = snapshot.manifest();
    long current = version(manifest.kind());
    if (manifest.version() < current) {
      log.info(
          "not applying {} snapshot {} from {}: version {} is served",
          manifest.kind().id(),
          manifest.version(),
          source.id(),
          current);
      return false;
    }
    if (manifest.version() == current) {
      confirm(manifest.kind(), manifest.version(), source);
      return true;
    }
    try {
      if (manifest.kind() == SnapshotKind.INSTANCE) {
        instance = manifest;
      } else {
        ResourceSet resources = sealing.opened(SnapshotContent.readResources(snapshot.body()));
        RouteTable table = RouteTable.compile(resources, plugins, table());
        serving.set(new Serving(table, manifest, source, clock.instant()));
      }
    } catch (SnapshotFormatException | IllegalArgumentException e) {
      // Content the DP will never accept (InvalidResourceException is one). An I/O failure
      // reading the body is not caught: the caller retries it instead of marking the version
      // refused.
      lastRejection = new Rejection(manifest.version(), source, e.getMessage(), clock.instant());
      log.error(
          "refused {} snapshot {} from {}; still serving version {}: {}",
          manifest.kind().id(),
          manifest.version(),
          source.id(),
          current,
          e.getMessage());
      return false;
    }
    log.info(
        "now serving {} snapshot {} from {} ({})",
        manifest.kind().id(),
        manifest.version(),
        source.id(),
        manifest.counts());
    if (source != Source.CACHE) {
      try {
        cache.save(snapshot, storageEtag);
      } catch (RuntimeException e) {
        log.warn("could not update the local cache: {}", e.getMessage());
      }
    }
    return true;
  }

  /**
   * Applies both parts of {@code export} if it is newer than what is served, or neither: the
   * resources are compiled first, and only when they are valid do the table and the instance
   * settings change, together. An export of the served version only relabels its source (see {@link
   * #confirm}).
   *
   * @param storageEtag the storage pointer's ETag when the export came from storage
   * @return true when it is now served (newly, or it was the same version already); false when it
   *     is older than the one served or its content is refused
   * @throws java.io.UncheckedIOException when a body cannot be read: worth another try
   */
  public synchronized boolean apply(
      VerifiedExport export, Source source, Optional<ETag> storageEtag) {
    long current = version(SnapshotKind.RESOURCES);
    if (export.version() < current) {
      log.info(
          "not applying export {} from {}: version {} is served",
          export.version(),
          source.id(),
          current);
      return false;
    }
    if (export.version() == current) {
      confirm(SnapshotKind.RESOURCES, export.version(), source);
      return true;
    }
    SnapshotManifest resources = export.part(SnapshotKind.RESOURCES).manifest();
    try {
      ResourceSet set =
          sealing.opened(SnapshotContent.readResources(export.part(SnapshotKind.RESOURCES).body()));
      RouteTable table = RouteTable.compile(set, plugins, table());
      // Both parts switch here, one after the other with nothing between that can fail.
      instance = export.part(SnapshotKind.INSTANCE).manifest();
      serving.set(
          new Serving(table, resources, source, clock.instant(), Optional.of(export.signed())));
    } catch (SnapshotFormatException | IllegalArgumentException e) {
      lastRejection = new Rejection(export.version(), source, e.getMessage(), clock.instant());
      log.error(
          "refused export {} from {}; still serving version {}: {}",
          export.version(),
          source.id(),
          current,
          e.getMessage());
      return false;
    }
    log.info(
        "now serving export {} from {} ({}{})",
        export.version(),
        source.id(),
        resources.counts(),
        export.signed().keyId().map(id -> ", signed by key " + id).orElse(", unsigned"));
    if (source != Source.CACHE) {
      cache.save(export, storageEtag);
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
  public synchronized void confirm(SnapshotKind kind, long version, Source source) {
    Serving current = serving.get();
    if (kind == SnapshotKind.RESOURCES
        && current != null
        && current.manifest().version() == version
        && source.compareTo(current.source()) > 0) {
      serving.set(
          new Serving(
              current.table(), current.manifest(), source, current.appliedAt(), current.export()));
    }
  }
}
