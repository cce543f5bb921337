package io.ballast.controlplane;

import io.ballast.controlplane.store.ConfigStore;
import io.ballast.controlplane.store.StoreView;
import io.ballast.fs.DurableFiles;
import io.ballast.fs.PrivateFiles;
import io.ballast.resource.Json;
import io.ballast.resource.ResourceType;
import io.ballast.snapshot.BodyStats;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.ShrinkGuard;
import io.ballast.snapshot.SignedExport;
import io.ballast.snapshot.SnapshotBodyWriter;
import io.ballast.snapshot.SnapshotEntry;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.snapshot.SnapshotSigner;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.snapshot.VerifiedSnapshot;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Turns the CP store into exports on local disk: for every store revision (bursts of writes
 * coalesce into one build of the newest revision) one export of both parts at that version, the
 * {@code resources} part from the store and the {@code instance} part from the CP file's node-level
 * settings, bound by one signed {@link ExportManifest}. These exact bodies go to data planes over
 * the conf server and to object storage through the exporter.
 *
 * <p>The instance settings only change when a CP restarts with another file. The newest export
 * built is recorded in {@value #STATE_FILE} (its version and the instance body's SHA-256); a start
 * whose settings differ from it at a revision not above it moves the store's revision one step
 * ({@link ConfigStore#bumpRevision}), so the new settings get a new, higher version.
 */
public final class SnapshotBuilder implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SnapshotBuilder.class);

  /** Older exports stay a while so that a DP still downloading one is not cut off. */
  private static final int EXPORTS_KEPT = 3;

  static final String STATE_FILE = "newest-export.json";

  private final ConfigStore store;
  private final Path workDir;
  private final ExportLayout layout;
  private final String producer;
  private final Supplier<String> lineage;
  private final SnapshotSigner signer;
  private final Duration expireAfter;
  private final Clock clock;

  private final Sinks.Many<VerifiedExport> latest = Sinks.many().replay().latest();
  private final Deque<VerifiedExport> kept = new ArrayDeque<>();
  private volatile VerifiedExport current;
  private Path instanceBody;
  private BodyStats instanceStats;
  private Disposable subscription;
  private ShrinkHold shrinkHold;

  /** The newest export built before this start: the shrink guard's baseline until one is built. */
  private volatile BuiltState beforeStart;

  /**
   * @param lineage the store's lineage id, read at each build
   * @param expireAfter how long a signature stays fresh ({@code fallback_cp.expire_after})
   */
  public SnapshotBuilder(
      ConfigStore store,
      Path workDir,
      ExportLayout layout,
      String producer,
      Supplier<String> lineage,
      SnapshotSigner signer,
      Duration expireAfter,
      Clock clock) {
    this.store = Objects.requireNonNull(store, "store");
    this.workDir = Objects.requireNonNull(workDir, "workDir");
    this.layout = Objects.requireNonNull(layout, "layout");
    this.producer = Objects.requireNonNull(producer, "producer");
    this.lineage = Objects.requireNonNull(lineage, "lineage");
    this.signer = Objects.requireNonNull(signer, "signer");
    this.expireAfter = Objects.requireNonNull(expireAfter, "expireAfter");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.shrinkHold = new ShrinkHold(ShrinkGuard.DEFAULT, clock);
  }

  /** Sets {@code fallback_cp.max_route_shrink}; call before {@link #start}. */
  public void guardShrinks(ShrinkGuard guard) {
    this.shrinkHold = new ShrinkHold(guard, clock);
  }

  /** The shrink guard's hold: {@code exports} on the CP's status. */
  public ShrinkHold shrinkHold() {
    return shrinkHold;
  }

  /** Writes the instance part from these node-level settings, then follows the store. */
  public void start(List<SnapshotEntry> instanceSettings) {
    Optional<BuiltState> previous;
    try {
      PrivateFiles.createFolder(workDir);
      previous = readState();
      try (var stale = Files.list(workDir)) {
        for (Path file : stale.toList()) {
          if (!file.getFileName().toString().equals(STATE_FILE)) {
            Files.deleteIfExists(file);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare snapshot folder " + workDir, e);
    }
    beforeStart = previous.orElse(null);
    instanceBody = workDir.resolve("instance.ndjson.gz");
    instanceStats = writeBody(instanceBody, instanceSettings.stream());
    previous
        .filter(state -> !state.instanceSha256().equals(instanceStats.sha256Hex()))
        .filter(state -> store.revision() <= state.version())
        .ifPresent(
            state ->
                store.bumpRevision(
                    "the node-level settings differ from those of export "
                        + state.version()
                        + ", so they need a higher version"));

    subscription =
        store
            .revisions()
            .onBackpressureLatest()
            .concatMap(
                revision ->
                    Mono.fromCallable(() -> buildNewest().orElse(null))
                        .subscribeOn(Schedulers.boundedElastic())
                        .doOnError(e -> log.error("building the export failed", e))
                        .onErrorResume(e -> Mono.empty()),
                1)
            .subscribe(this::publish);
  }

  /** The newest export, then every newer one as it is built. */
  public Flux<VerifiedExport> exports() {
    return latest.asFlux();
  }

  public Optional<VerifiedExport> current() {
    return Optional.ofNullable(current);
  }

  /** A recent export still on disk, for a DP that asked for it just before a newer one. */
  public synchronized Optional<VerifiedExport> kept(long version) {
    return kept.stream().filter(export -> export.version() == version).findFirst();
  }

  /** The lineage of the exports built, for the conf server's header. */
  public String lineage() {
    return lineage.get();
  }

  /**
   * The export of the store's newest revision; empty when the shrink guard holds it, so that the
   * conf server and the exporter keep offering the last one that went out.
   */
  private Optional<VerifiedExport> buildNewest() {
    StoreView view = store.view();
    VerifiedExport newest = current;
    if (newest != null && newest.version() == view.revision()) {
      return Optional.of(newest);
    }
    long version = view.revision();
    long previousVersion = newest == null ? ExportManifest.NO_PREVIOUS : newest.version();
    // The guard's baseline: the last export that went out, or after a restart the newest one
    // built before it, so that a store wiped or restored while the CP was down is caught too.
    long baselineVersion = previousVersion;
    long baselineRoutes = newest == null ? 0 : newest.manifest().routes();
    BuiltState restarted = beforeStart;
    if (newest == null && restarted != null && restarted.version() < version) {
      baselineVersion = restarted.version();
      baselineRoutes = restarted.routes();
    }
    // A confirmation given since the baseline covers this export, and only it.
    boolean shrinkConfirmed = view.shrinkConfirmedSince(baselineVersion);
    boolean admitted =
        shrinkHold.admits(
            baselineVersion,
            baselineRoutes,
            version,
            view.resources(ResourceType.ROUTES).size(),
            shrinkConfirmed);
    if (!admitted) {
      return Optional.empty();
    }
    Path resourceBody = workDir.resolve("resources-" + version + ".ndjson.gz");
    BodyStats resourceStats =
        writeBody(
            resourceBody,
            view.inCanonicalOrder()
                .map(stored -> stored.resource())
                .map(r -> new SnapshotEntry(r.type().plural(), r.id(), r.value())));
    Instant now = clock.instant();
    SnapshotManifest resources = part(SnapshotKind.RESOURCES, version, now, resourceStats);
    SnapshotManifest instance = part(SnapshotKind.INSTANCE, version, now, instanceStats);
    ExportManifest manifest =
        new ExportManifest(
            layout.gatewayGroup(),
            lineage.get(),
            version,
            previousVersion,
            shrinkConfirmed,
            now,
            producer,
            Map.of(SnapshotKind.RESOURCES, resources, SnapshotKind.INSTANCE, instance),
            now,
            now.plus(expireAfter));
    SignedExport signed = signer.sign(manifest);
    log.info(
        "built export {} ({} bytes of resources, {})",
        version,
        resourceStats.size(),
        resourceStats.counts());
    writeState(new BuiltState(version, instanceStats.sha256Hex(), manifest.routes()));
    return Optional.of(
        new VerifiedExport(
            signed,
            Map.of(
                SnapshotKind.RESOURCES,
                new VerifiedSnapshot(resources, resourceBody),
                SnapshotKind.INSTANCE,
                new VerifiedSnapshot(instance, instanceBody))));
  }

  private SnapshotManifest part(SnapshotKind kind, long version, Instant now, BodyStats stats) {
    return SnapshotManifest.of(
        layout.gatewayGroup(),
        kind,
        version,
        now,
        producer,
        layout.bodyKey(kind, version, stats.sha256Hex()).value(),
        stats);
  }

  private static BodyStats writeBody(Path body, Stream<SnapshotEntry> entries) {
    try (OutputStream out = PrivateFiles.newOutputStream(body);
        SnapshotBodyWriter writer = new SnapshotBodyWriter(out)) {
      entries.forEachOrdered(writer::write);
      return writer.finish();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write snapshot " + body, e);
    }
  }

  private synchronized void publish(VerifiedExport export) {
    if (current != null && current.version() == export.version()) {
      return;
    }
    current = export;
    kept.addLast(export);
    while (kept.size() > EXPORTS_KEPT) {
      Path old = kept.removeFirst().part(SnapshotKind.RESOURCES).body();
      try {
        Files.deleteIfExists(old);
      } catch (IOException e) {
        log.warn("cannot delete old snapshot file {}: {}", old, e.toString());
      }
    }
    latest.tryEmitNext(export);
  }

  /** What {@value #STATE_FILE} records of the newest export built. */
  private record BuiltState(long version, String instanceSha256, long routes) {}

  private Optional<BuiltState> readState() {
    Path file = workDir.resolve(STATE_FILE);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      JsonNode node = Json.mapper().readTree(Files.readAllBytes(file));
      return Optional.of(
          new BuiltState(
              node.get("version").asLong(),
              node.get("instance_sha256").stringValue(),
              node.has("routes") ? node.get("routes").asLong() : 0));
    } catch (IOException | RuntimeException e) {
      log.warn("ignoring unreadable {}: {}", file, e.toString());
      return Optional.empty();
    }
  }

  private void writeState(BuiltState state) {
    ObjectNode node = Json.mapper().createObjectNode();
    node.put("version", state.version());
    node.put("instance_sha256", state.instanceSha256());
    node.put("routes", state.routes());
    try {
      DurableFiles.replace(
          workDir.resolve(STATE_FILE), out -> out.write(Json.mapper().writeValueAsBytes(node)));
    } catch (IOException e) {
      // Only a later restart with other settings needs it; the export itself is fine.
      log.warn("cannot record the newest export in {}: {}", workDir, e.toString());
    }
  }

  @Override
  public void close() {
    if (subscription != null) {
      subscription.dispose();
    }
  }
}
