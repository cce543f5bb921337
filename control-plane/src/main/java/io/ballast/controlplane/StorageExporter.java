package io.ballast.controlplane;

import io.ballast.config.CronSpec;
import io.ballast.snapshot.ExportPublisher;
import io.ballast.snapshot.PublishResult;
import io.ballast.snapshot.VerifiedExport;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Copies the newest export to every storage backend:
 *
 * <ul>
 *   <li>at once when started, so a restarted CP does not wait for a tick;
 *   <li>{@code export_debounce} after a new export is built (a burst of writes ends in one export
 *       of the newest revision, and storage stays within about that much of the store);
 *   <li>on every {@code cron_spec} tick, even when nothing changed: a publish that finds the export
 *       stored re-signs the pointer at the same version ({@link ExportPublisher#refresh}), so that
 *       data planes can tell a live CP's pointer from one that stopped moving.
 * </ul>
 *
 * One backend failing does not stop the others; each is retried on the next change or tick, and
 * nothing is lost because the store, not this class, holds the configuration. While {@link #pause
 * paused} (another part of the CP decided exports must wait), nothing is exported.
 *
 * <p>A backend whose pointer names an export of another lineage (another CP's store, started after
 * this one's {@link LineageCheck}) pauses every export, naming both lineages: two stores must not
 * take turns in storage. Only the lineage the operator chose to replace ({@code --lineage=store})
 * is exported over.
 */
public final class StorageExporter implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(StorageExporter.class);

  /** Lower than any version: an empty store's export, version 0, is exported too. */
  private static final long NOTHING_EXPORTED = -1;

  /** One storage backend to export to, named for status and logs. */
  public record Target(String name, ExportPublisher publisher) {}

  private final SnapshotBuilder builder;
  private final CronSpec cron;
  private final Duration debounce;
  private final Clock clock;
  private final Supplier<Optional<String>> replaceableLineage;
  private final List<TargetState> targets = new ArrayList<>();
  private final Sinks.Many<Boolean> runs = Sinks.many().unicast().onBackpressureBuffer();
  private volatile String pausedBecause;

  /**
   * Set when a backend's pointer turned out to be of another lineage: kept apart from {@link
   * #pausedBecause}, which the start-up check may lift, because only the operator (a restart with
   * {@code --lineage}) settles it.
   */
  private volatile String otherLineageFound;

  private Disposable schedule;

  /**
   * @param targets one per storage backend, in the order of the file
   * @param debounce how long after a new export it is published ({@code export_debounce})
   */
  public StorageExporter(
      SnapshotBuilder builder,
      List<Target> targets,
      CronSpec cron,
      Duration debounce,
      Clock clock) {
    this(builder, targets, cron, debounce, clock, Optional::empty);
  }

  /**
   * @param replaceableLineage the lineage in storage the operator chose to replace with the store's
   *     ({@link LineageCheck#replaceableLineage}), asked at each export
   */
  public StorageExporter(
      SnapshotBuilder builder,
      List<Target> targets,
      CronSpec cron,
      Duration debounce,
      Clock clock,
      Supplier<Optional<String>> replaceableLineage) {
    this.replaceableLineage = Objects.requireNonNull(replaceableLineage, "replaceableLineage");
    this.builder = Objects.requireNonNull(builder, "builder");
    this.cron = Objects.requireNonNull(cron, "cron");
    this.debounce = Objects.requireNonNull(debounce, "debounce");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("an exporter needs at least one storage backend");
    }
    targets.forEach(target -> this.targets.add(new TargetState(target)));
  }

  public void start() {
    // Each run says whether it is a tick (re-sign) or a change; runs never overlap.
    Flux<Boolean> ticks = Mono.defer(() -> Mono.delay(untilNextTick())).thenReturn(true).repeat();
    // The first export goes out at once (a restarted CP does not wait); after that, the first
    // new build of a burst opens a window of export_debounce, and the export at its end takes the
    // newest build, whatever came in between.
    Flux<Boolean> builds =
        builder
            .exports()
            .map(VerifiedExport::version)
            .distinctUntilChanged()
            .publish(
                versions ->
                    Flux.merge(
                        versions.take(1),
                        versions
                            .skip(1)
                            .sampleFirst(version -> Mono.delay(debounce))
                            .delayElements(debounce)))
            .map(version -> false);
    schedule =
        Flux.merge(builds, ticks, runs.asFlux())
            .onBackpressureBuffer()
            .concatMap(resign -> runOnce(resign), 1)
            .subscribe();
    log.info(
        "exporting to {} on change (export_debounce {}) and re-signing on cron_spec '{}'",
        targets.stream().map(t -> t.target.name()).toList(),
        debounce,
        cron.spec());
  }

  private Duration untilNextTick() {
    Instant now = clock.instant();
    Duration wait = Duration.between(now, cron.next(now, ZoneId.systemDefault()));
    return wait.isNegative() ? Duration.ZERO : wait;
  }

  /**
   * Holds every export until {@link #resume()}; {@code reason} shows in the status. For the CP's
   * start-up lineage check, which must stop an export reaching storage until it has decided.
   */
  public void pause(String reason) {
    Objects.requireNonNull(reason, "reason");
    if (pausedBecause == null) {
      log.warn("exports to storage paused: {}", reason);
    }
    pausedBecause = reason;
  }

  /** Exports again, at once. */
  public void resume() {
    if (pausedBecause != null) {
      log.info("exports to storage resumed");
      pausedBecause = null;
      runs.tryEmitNext(false);
    }
  }

  public boolean exportsHeld() {
    return pausedReason() != null;
  }

  private String pausedReason() {
    String conflict = otherLineageFound;
    return conflict != null ? conflict : pausedBecause;
  }

  /** Exports the newest build to every backend now; for tests and the debounce. */
  Mono<Void> runOnce(boolean resign) {
    Optional<VerifiedExport> export = builder.current();
    if (pausedReason() != null || export.isEmpty()) {
      return Mono.empty();
    }
    return Flux.fromIterable(targets).flatMap(target -> target.export(export.get(), resign)).then();
  }

  /** For the status endpoint: the exporter's settings and each backend's state. */
  public Map<String, Object> status() {
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("cron_spec", cron.spec());
    status.put("export_debounce", debounce.toMillis() + "ms");
    status.put("paused", pausedReason());
    List<Map<String, Object>> backends = new ArrayList<>();
    targets.forEach(target -> backends.add(target.status()));
    status.put("backends", backends);
    return status;
  }

  @Override
  public void close() {
    if (schedule != null) {
      schedule.dispose();
    }
  }

  /** One backend's exports: what it holds and how the last attempt went. */
  private final class TargetState {
    final Target target;
    private long exported = NOTHING_EXPORTED;
    private Instant lastAttempt;
    private Instant lastSuccess;
    private Instant signedUntil;
    private String lastError;

    TargetState(Target target) {
      this.target = target;
    }

    /** Publishes {@code export}; on a tick, re-signs the pointer when it already names it. */
    Mono<Void> export(VerifiedExport export, boolean resign) {
      synchronized (this) {
        lastAttempt = clock.instant();
      }
      if (!resign && export.version() <= exported()) {
        return Mono.empty();
      }
      ExportPublisher publisher = target.publisher();
      return publisher
          .publish(export, replaceableLineage.get())
          .flatMap(
              result ->
                  resign
                          && result instanceof PublishResult.Skipped skipped
                          && skipped.existingVersion() == export.version()
                      ? publisher.refresh(export.version())
                      : Mono.just(result))
          .doOnNext(result -> record(export, result))
          .then()
          .onErrorResume(
              e -> {
                synchronized (this) {
                  lastError = e.getMessage();
                }
                log.error(
                    "export {} to {} failed; retrying on the next change or tick: {}",
                    export.version(),
                    target.name(),
                    e.toString());
                return Mono.empty();
              });
    }

    private synchronized long exported() {
      return exported;
    }

    private synchronized void record(VerifiedExport export, PublishResult result) {
      if (result instanceof PublishResult.OtherLineage other) {
        // Not a success: this backend's status names the conflict as well as the exporter's.
        lastError = otherLineageReason(other);
        if (otherLineageFound == null) {
          log.warn("exports to storage paused: {}", lastError);
        }
        otherLineageFound = lastError;
        return;
      }
      lastSuccess = clock.instant();
      lastError = null;
      if (result instanceof PublishResult.Published published) {
        exported = published.signed().version();
        signedUntil = published.signed().manifest().expiresAt();
        log.info("export {} is in {}", exported, target.name());
      } else if (result instanceof PublishResult.Skipped skipped) {
        if (skipped.existingVersion() > export.version()) {
          log.warn(
              "{} holds export {}, newer than this CP's {}; not re-signing it",
              target.name(),
              skipped.existingVersion(),
              export.version());
        }
        exported = Math.max(exported, export.version());
      }
    }

    private String otherLineageReason(PublishResult.OtherLineage other) {
      return target.name()
          + " holds export "
          + other.existingVersion()
          + " of lineage "
          + other.existingLineage()
          + ", another control plane's store, where this one's is lineage "
          + other.ownLineage()
          + ": exports are paused so that the two do not take turns in storage; stop the other"
          + " control plane, then restart this one with "
          + LineageChoice.STORAGE.flag()
          + " to import storage's export or "
          + LineageChoice.STORE.flag()
          + " to replace it with this store";
    }

    synchronized Map<String, Object> status() {
      Map<String, Object> status = new LinkedHashMap<>();
      status.put("name", target.name());
      status.put("exported_version", exported);
      status.put("signed_until", signedUntil == null ? null : signedUntil.toString());
      status.put("last_attempt", lastAttempt == null ? null : lastAttempt.toString());
      status.put("last_success", lastSuccess == null ? null : lastSuccess.toString());
      status.put("last_error", lastError);
      return status;
    }
  }
}
