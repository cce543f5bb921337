package io.ballast.controlplane;

import io.ballast.controlplane.store.ConfigStore;
import io.ballast.controlplane.store.StoreView;
import io.ballast.fs.PrivateFiles;
import io.ballast.resource.ResourceType;
import io.ballast.snapshot.BodyStats;
import io.ballast.snapshot.ShrinkGuard;
import io.ballast.snapshot.SnapshotBodyWriter;
import io.ballast.snapshot.SnapshotEntry;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotLayout;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.snapshot.VerifiedSnapshot;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * Turns the CP store into snapshot files on local disk: a {@code resources} snapshot for every
 * store revision (bursts of writes coalesce into one build of the newest revision) and one {@code
 * instance} snapshot per process. These exact bytes go to data planes over the conf server and to
 * object storage through the exporter.
 */
public final class SnapshotBuilder implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SnapshotBuilder.class);

  /** Older files stay a while so that a DP still downloading one is not cut off. */
  private static final int FILES_KEPT = 3;

  private static final long NOTHING_BUILT = -1;
  private static final String ROUTES = ResourceType.ROUTES.plural();

  private final ConfigStore store;
  private final Path workDir;
  private final String gatewayGroup;
  private final String prefix;
  private final String producer;
  private final Clock clock;

  /** The newest of each kind, for callers that want it now rather than as a stream. */
  private final Map<SnapshotKind, VerifiedSnapshot> current = new ConcurrentHashMap<>();

  private final Map<SnapshotKind, Sinks.Many<VerifiedSnapshot>> latest =
      new EnumMap<>(SnapshotKind.class);
  private final Deque<Path> builtFiles = new ArrayDeque<>();
  private Disposable subscription;
  private ShrinkHold shrinkHold;

  public SnapshotBuilder(
      ConfigStore store,
      Path workDir,
      String prefix,
      String gatewayGroup,
      String producer,
      Clock clock) {
    this.store = store;
    this.workDir = workDir;
    this.prefix = prefix;
    this.gatewayGroup = gatewayGroup;
    this.producer = producer;
    this.clock = clock;
    this.shrinkHold = new ShrinkHold(ShrinkGuard.DEFAULT, clock);
    for (SnapshotKind kind : SnapshotKind.values()) {
      latest.put(kind, Sinks.many().replay().latest());
    }
  }

  /** Sets {@code fallback_cp.max_route_shrink}; call before {@link #start}. */
  public void guardShrinks(ShrinkGuard guard) {
    this.shrinkHold = new ShrinkHold(guard, clock);
  }

  /** The shrink guard's hold: {@code exports} on the CP's status. */
  public ShrinkHold shrinkHold() {
    return shrinkHold;
  }

  /**
   * Builds the instance snapshot from these node-level settings, then follows the store. The
   * instance version is the build time in milliseconds: instance settings only change when a CP
   * restarts with another file, and a restart is later than every earlier build.
   */
  public void start(List<SnapshotEntry> instanceSettings) {
    try {
      PrivateFiles.createFolder(workDir);
      try (var stale = Files.list(workDir)) {
        for (Path file : stale.toList()) {
          Files.deleteIfExists(file);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare snapshot folder " + workDir, e);
    }
    long instanceVersion = clock.millis();
    publish(build(SnapshotKind.INSTANCE, instanceVersion, instanceSettings.stream()));

    subscription =
        store
            .revisions()
            .onBackpressureLatest()
            .concatMap(
                revision ->
                    Mono.fromCallable(() -> buildResources().orElse(null))
                        .subscribeOn(Schedulers.boundedElastic())
                        .doOnError(e -> log.error("building the resources snapshot failed", e))
                        .onErrorResume(e -> Mono.empty()),
                1)
            .subscribe(this::publish);
  }

  /** The newest snapshot of {@code kind}, then every newer one as it is built. */
  public Flux<VerifiedSnapshot> updates(SnapshotKind kind) {
    return latest.get(kind).asFlux();
  }

  public Optional<VerifiedSnapshot> current(SnapshotKind kind) {
    return Optional.ofNullable(current.get(kind));
  }

  /**
   * The resources snapshot of the store's newest revision; empty when the shrink guard holds it, so
   * that the conf server and the exporter keep offering the last one that went out.
   */
  private Optional<VerifiedSnapshot> buildResources() {
    StoreView view = store.view();
    Optional<VerifiedSnapshot> newest = current(SnapshotKind.RESOURCES);
    if (newest.isPresent() && newest.get().version() == view.revision()) {
      return newest;
    }
    long previousVersion = newest.map(VerifiedSnapshot::version).orElse(NOTHING_BUILT);
    long previousRoutes =
        newest.map(s -> s.manifest().counts().getOrDefault(ROUTES, 0L)).orElse(0L);
    boolean admitted =
        shrinkHold.admits(
            previousVersion,
            previousRoutes,
            view.revision(),
            view.resources(ResourceType.ROUTES).size(),
            view.shrinkConfirmedSince(previousVersion));
    if (!admitted) {
      return Optional.empty();
    }
    return Optional.of(
        build(
            SnapshotKind.RESOURCES,
            view.revision(),
            view.inCanonicalOrder()
                .map(stored -> stored.resource())
                .map(r -> new SnapshotEntry(r.type().plural(), r.id(), r.value()))));
  }

  private VerifiedSnapshot build(SnapshotKind kind, long version, Stream<SnapshotEntry> entries) {
    Path body = workDir.resolve(kind.id() + "-" + version + ".ndjson.gz");
    BodyStats stats;
    try (OutputStream out = PrivateFiles.newOutputStream(body);
        SnapshotBodyWriter writer = new SnapshotBodyWriter(out)) {
      entries.forEachOrdered(writer::write);
      stats = writer.finish();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write snapshot " + body, e);
    }
    SnapshotLayout layout = new SnapshotLayout(prefix, gatewayGroup, kind);
    SnapshotManifest manifest =
        SnapshotManifest.of(
            gatewayGroup,
            kind,
            version,
            clock.instant(),
            producer,
            layout.bodyKey(version).value(),
            stats);
    log.info(
        "built {} snapshot version {} ({} bytes, {})",
        kind.id(),
        version,
        stats.size(),
        stats.counts());
    return new VerifiedSnapshot(manifest, body);
  }

  private synchronized void publish(VerifiedSnapshot snapshot) {
    current.put(snapshot.manifest().kind(), snapshot);
    latest.get(snapshot.manifest().kind()).tryEmitNext(snapshot);
    if (snapshot.manifest().kind() == SnapshotKind.RESOURCES) {
      if (!builtFiles.contains(snapshot.body())) {
        builtFiles.addLast(snapshot.body());
      }
      while (builtFiles.size() > FILES_KEPT) {
        Path old = builtFiles.removeFirst();
        try {
          Files.deleteIfExists(old);
        } catch (IOException e) {
          log.warn("cannot delete old snapshot file {}: {}", old, e.toString());
        }
      }
    }
  }

  @Override
  public void close() {
    if (subscription != null) {
      subscription.dispose();
    }
  }
}
