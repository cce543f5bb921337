package io.ballast.controlplane;

import io.ballast.config.CronSpec;
import io.ballast.snapshot.BodyStats;
import io.ballast.snapshot.FallbackCpConfig;
import io.ballast.snapshot.PublishResult;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotLayout;
import io.ballast.snapshot.SnapshotPublisher;
import io.ballast.snapshot.VerifiedSnapshot;
import io.ballast.storage.StorageBackend;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Copies the newest snapshots to object storage on {@code cron_spec}, only when a kind has a
 * version newer than the last one exported. A failed export is logged and retried on the next tick;
 * nothing is lost because the store, not this class, holds the configuration.
 */
public final class StorageExporter implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(StorageExporter.class);

  /** Lower than any version: an empty store's snapshot, version 0, is exported too. */
  private static final long NOTHING_EXPORTED = -1;

  private final SnapshotBuilder builder;
  private final CronSpec cron;
  private final Clock clock;
  private final Map<SnapshotKind, SnapshotPublisher> publishers = new EnumMap<>(SnapshotKind.class);
  private final Map<SnapshotKind, Long> exported = new EnumMap<>(SnapshotKind.class);
  private volatile Instant lastAttempt;
  private volatile Instant lastSuccess;
  private volatile String lastError;
  private Disposable schedule;

  public StorageExporter(
      SnapshotBuilder builder,
      StorageBackend backend,
      FallbackCpConfig config,
      String producer,
      Clock clock) {
    this.builder = builder;
    this.cron = config.cronSpec();
    this.clock = clock;
    for (SnapshotKind kind : SnapshotKind.values()) {
      String bucket =
          kind == SnapshotKind.RESOURCES ? config.resourceBucket() : config.configBucket();
      publishers.put(
          kind,
          new SnapshotPublisher(
              backend.bucket(bucket),
              new SnapshotLayout(config.prefix(), config.gatewayGroup(), kind),
              config.retention(),
              producer,
              clock));
      exported.put(kind, NOTHING_EXPORTED);
    }
  }

  public void start() {
    schedule =
        Mono.defer(() -> Mono.delay(untilNextTick()))
            .then(Mono.defer(this::exportChanged))
            .repeat()
            .subscribe();
    log.info("exporting snapshots to storage on cron_spec '{}'", cron.spec());
  }

  private Duration untilNextTick() {
    Instant now = clock.instant();
    Duration wait = Duration.between(now, cron.next(now, ZoneId.systemDefault()));
    return wait.isNegative() ? Duration.ZERO : wait;
  }

  /** Exports every kind whose newest snapshot has not been exported yet; never fails. */
  Mono<Void> exportChanged() {
    lastAttempt = clock.instant();
    return Flux.fromArray(SnapshotKind.values())
        .concatMap(kind -> Mono.justOrEmpty(builder.current(kind)).flatMap(s -> export(kind, s)))
        .then()
        .doOnSuccess(
            ignored -> {
              lastSuccess = clock.instant();
              lastError = null;
            })
        .onErrorResume(
            e -> {
              lastError = e.getMessage();
              log.error("export to storage failed; retrying on the next tick: {}", e.toString());
              return Mono.empty();
            });
  }

  private Mono<Void> export(SnapshotKind kind, VerifiedSnapshot snapshot) {
    if (snapshot.version() <= exported.get(kind)) {
      return Mono.empty();
    }
    var manifest = snapshot.manifest();
    BodyStats stats = new BodyStats(manifest.bodySize(), manifest.bodySha256(), manifest.counts());
    return publishers
        .get(kind)
        .publish(snapshot.version(), snapshot.body(), stats)
        .doOnNext(result -> record(kind, snapshot.version(), result))
        .then();
  }

  private synchronized void record(SnapshotKind kind, long version, PublishResult result) {
    exported.put(kind, version);
    if (result instanceof PublishResult.Published published) {
      log.info("exported {} snapshot version {}", kind.id(), published.manifest().version());
    } else {
      log.info("storage already holds {} snapshot version {} or newer", kind.id(), version);
    }
  }

  /** For the status endpoint. */
  public synchronized Map<String, Object> status() {
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("cron_spec", cron.spec());
    exported.forEach((kind, version) -> status.put(kind.id() + "_exported_version", version));
    status.put("last_attempt", lastAttempt == null ? null : lastAttempt.toString());
    status.put("last_success", lastSuccess == null ? null : lastSuccess.toString());
    status.put("last_error", lastError);
    return status;
  }

  @Override
  public void close() {
    if (schedule != null) {
      schedule.dispose();
    }
  }
}
