package io.ballast.controlplane;

import io.ballast.controlplane.StorageExports.ExportPointer;
import io.ballast.controlplane.store.ConfigStore;
import io.ballast.controlplane.store.StoreView;
import io.ballast.resource.ResourceSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

/**
 * Reconciles the control plane's store with the newest export in storage before the store's
 * revisions are exported, so that a CP never restarts the count under its data planes: they serve
 * storage's version and refuse anything numbered at or below it.
 *
 * <ul>
 *   <li>storage holds no export: nothing to do;
 *   <li>same lineage, store at or above storage's version: nothing to do;
 *   <li>store empty, or same lineage and behind (a restored backup): storage's export is imported
 *       and writes continue above it (WARN);
 *   <li>store written in another lineage: exports stay paused (the conf server still serves the
 *       store) until the operator restarts the CP with {@code --lineage=storage} (import storage's
 *       export) or {@code --lineage=store} (keep the store, numbered above storage's version);
 *   <li>storage unreadable: exports stay paused and the check is retried in the background, since a
 *       CP must not push a restarted count over a newer lineage it could not see.
 * </ul>
 */
public final class LineageCheck implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LineageCheck.class);

  /** Where the check stands; {@code /status} shows it. */
  public enum State {
    /** Not yet decided: storage has not been read. Exports wait. */
    CHECKING("checking"),
    /** The store and storage are in one lineage, the store at or above storage's version. */
    IN_STEP("in_step"),
    /** Storage's export was imported into the store. */
    IMPORTED("imported"),
    /** The operator kept the store over another lineage in storage. */
    STORE_KEPT("store_kept"),
    /** The store holds another lineage than storage, or storage's export cannot be imported. */
    PAUSED("paused");

    private final String id;

    State(String id) {
      this.id = id;
    }

    public String id() {
      return id;
    }
  }

  /** The exporter's pause hook. */
  public interface ExportGate {
    void pause(String reason);

    void resume();
  }

  /** Storage could not be read: the check is retried, not decided. */
  private static final class StorageUnreadable extends RuntimeException {
    StorageUnreadable(RuntimeException cause) {
      super(cause.getMessage(), cause);
    }
  }

  private final ConfigStore store;
  private final StorageExports storage;
  private final String gatewayGroup;
  private final LineageChoice choice;
  private final Runnable afterImport;
  private final Duration firstRetry;
  private final Duration maxRetry;
  private final Clock clock;

  // Guarded by this.
  private State state = State.CHECKING;
  private String detail = "storage's newest export has not been read yet";
  private ExportPointer storageExport;
  private Instant checkedAt;
  private ExportGate gate;
  private Disposable retries;
  private boolean closed;

  /**
   * @param afterImport run after each import (the node re-seals what was imported with its keys)
   */
  public LineageCheck(
      ConfigStore store,
      StorageExports storage,
      String gatewayGroup,
      LineageChoice choice,
      Runnable afterImport,
      Duration firstRetry,
      Duration maxRetry,
      Clock clock) {
    this.store = Objects.requireNonNull(store, "store");
    this.storage = Objects.requireNonNull(storage, "storage");
    this.gatewayGroup = Objects.requireNonNull(gatewayGroup, "gatewayGroup");
    this.choice = Objects.requireNonNull(choice, "choice");
    this.afterImport = Objects.requireNonNull(afterImport, "afterImport");
    this.firstRetry = firstRetry;
    this.maxRetry = maxRetry;
    this.clock = clock;
  }

  /**
   * Checks once, now; when storage cannot be read, keeps checking in the background until it can.
   * Whatever it imports is in the store when this returns.
   */
  public void start() {
    try {
      check();
    } catch (StorageUnreadable e) {
      String reason =
          "storage's newest export for gateway group '"
              + gatewayGroup
              + "' cannot be read ("
              + e.getMessage()
              + "): exports wait until it can, lest a restarted count be pushed over a newer"
              + " lineage";
      settle(State.CHECKING, reason);
      log.warn(
          "Lineage check: {}; the control plane starts and its conf server serves the store;"
              + " retrying in the background",
          reason);
      retryInBackground();
    }
  }

  /**
   * Pauses {@code gate} until the check allows exports, now or whenever it decides; resumes it
   * then.
   */
  public void gate(ExportGate gate) {
    synchronized (this) {
      this.gate = gate;
      if (!exportsAllowed()) {
        gate.pause(detail);
      }
    }
  }

  public synchronized State state() {
    return state;
  }

  public synchronized boolean exportsAllowed() {
    return state == State.IN_STEP || state == State.IMPORTED || state == State.STORE_KEPT;
  }

  /**
   * The lineage in storage that the store's exports may replace: storage's, when the operator kept
   * the store over it ({@code --lineage=store}); otherwise none, and the exporter replaces only
   * exports of the store's own lineage.
   */
  public synchronized Optional<String> replaceableLineage() {
    return state == State.STORE_KEPT && storageExport != null
        ? Optional.of(storageExport.lineage())
        : Optional.empty();
  }

  /** For the status endpoint. */
  public synchronized Map<String, Object> status() {
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("state", state.id());
    status.put("exports", exportsAllowed() ? "allowed" : "paused");
    status.put("detail", detail);
    status.put("store_lineage", store.lineage());
    status.put("store_revision", store.revision());
    status.put("storage_lineage", storageExport == null ? null : storageExport.lineage());
    status.put("storage_version", storageExport == null ? null : storageExport.version());
    status.put("checked_at", checkedAt == null ? null : checkedAt.toString());
    return status;
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (retries != null) {
      retries.dispose();
    }
  }

  private void retryInBackground() {
    Disposable subscription =
        Mono.fromRunnable(this::check)
            .subscribeOn(Schedulers.boundedElastic())
            .retryWhen(
                Retry.backoff(Long.MAX_VALUE, firstRetry)
                    .maxBackoff(maxRetry)
                    .jitter(0.2)
                    .filter(e -> e instanceof StorageUnreadable)
                    .doBeforeRetry(
                        signal ->
                            log.debug(
                                "Lineage check: storage still unreadable (attempt {}): {}",
                                signal.totalRetries() + 1,
                                signal.failure().getMessage())))
            .subscribe(
                ignored -> {},
                e -> {
                  // Not storage: the import itself failed after it was decided.
                  settle(State.PAUSED, "the lineage check failed: " + e.getMessage());
                  log.error("Lineage check failed; exports stay paused: {}", e.getMessage());
                  log.debug("Lineage check failure", e);
                },
                () -> log.info("Lineage check: storage answered; {}", status().get("detail")));
    synchronized (this) {
      if (closed) {
        subscription.dispose();
      } else {
        retries = subscription;
      }
    }
  }

  /** Reads storage and decides; an import that loses a race with a write decides again. */
  private void check() {
    while (true) {
      ExportPointer newest = readNewest().orElse(null);
      StoreView seen = store.view();
      synchronized (this) {
        storageExport = newest;
      }
      if (decide(seen, newest)) {
        return;
      }
    }
  }

  /**
   * @return false when a write changed the store before an import could replace it
   */
  private boolean decide(StoreView seen, ExportPointer newest) {
    if (newest == null) {
      settle(State.IN_STEP, "storage holds no export for gateway group '" + gatewayGroup + "' yet");
      noteUnusedChoice();
      return true;
    }
    String storeState =
        "the config store is at revision " + seen.revision() + " of lineage " + seen.lineage();
    String storageState =
        "storage's newest export for gateway group '"
            + gatewayGroup
            + "' is version "
            + newest.version()
            + " of lineage "
            + newest.lineage();
    if (newest.lineage().equals(seen.lineage())) {
      if (seen.revision() >= newest.version()) {
        settle(State.IN_STEP, storeState + ", at or above " + storageState);
        noteUnusedChoice();
        return true;
      }
      noteUnusedChoice();
      return importExport(seen, newest, storeState + ", behind " + storageState);
    }
    if (seen.revision() == 0) {
      noteUnusedChoice();
      return importExport(
          seen, newest, "the config store is empty (new or wiped) and " + storageState);
    }
    String conflict = storeState + " but " + storageState;
    switch (choice) {
      case STORAGE:
        return importExport(
            seen, newest, conflict + ", and " + LineageChoice.STORAGE.flag() + " chose storage's");
      case STORE:
        keepStore(seen, newest, conflict);
        return true;
      default:
        String reason =
            conflict
                + ": exports are paused (the conf server still serves the store); restart with "
                + LineageChoice.STORAGE.flag()
                + " to import storage's export, replacing the store's content, or "
                + LineageChoice.STORE.flag()
                + " to keep the store and export it above storage's version";
        settle(State.PAUSED, reason);
        log.warn("Lineage check: {}", reason);
        return true;
    }
  }

  /**
   * Imports storage's export and numbers it above anything this store has numbered, so data planes
   * that followed either one move to it: storage's version, or one above the store's revision when
   * the store (another lineage, given up by the operator) had counted further.
   */
  private boolean importExport(StoreView seen, ExportPointer newest, String why) {
    ResourceSet resources = readResources(newest);
    long version = Math.max(newest.version(), seen.revision() + 1);
    try {
      if (!store.importSnapshotOver(
          seen, newest.lineage(), version, resources.inCanonicalOrder().toList())) {
        return false;
      }
    } catch (IllegalArgumentException e) { // StoreConflictException too
      String reason =
          why
              + ", but that export cannot be imported ("
              + e.getMessage()
              + "): exports are paused; restart with "
              + LineageChoice.STORE.flag()
              + " to keep the store and export it above storage's version";
      settle(State.PAUSED, reason);
      log.error("Lineage check: {}", reason);
      return true;
    }
    afterImport.run();
    String done =
        why
            + ": imported storage's export ("
            + resources.size()
            + " resources) as revision "
            + version
            + " of lineage "
            + newest.lineage()
            + "; writes continue from revision "
            + (store.revision() + 1);
    settle(State.IMPORTED, done);
    log.warn("Lineage check: {}", done);
    return true;
  }

  private void keepStore(StoreView seen, ExportPointer newest, String conflict) {
    store.continueFrom(newest.version() + 1);
    String done =
        conflict
            + ", and "
            + LineageChoice.STORE.flag()
            + " kept the store: its next export, revision "
            + store.revision()
            + " of lineage "
            + store.lineage()
            + ", replaces storage's lineage";
    settle(State.STORE_KEPT, done);
    log.warn("Lineage check: {}", done);
  }

  private void noteUnusedChoice() {
    if (choice != LineageChoice.UNDECIDED) {
      log.info(
          "Lineage check: {} is ignored: the store and storage do not disagree about their lineage",
          choice.flag());
    }
  }

  private Optional<ExportPointer> readNewest() {
    try {
      return storage.newest();
    } catch (RuntimeException e) {
      throw new StorageUnreadable(e);
    }
  }

  private ResourceSet readResources(ExportPointer pointer) {
    try {
      return storage.resources(pointer);
    } catch (RuntimeException e) {
      throw new StorageUnreadable(e);
    }
  }

  private void settle(State next, String why) {
    ExportGate toTell;
    boolean allowExports;
    synchronized (this) {
      state = next;
      detail = why;
      checkedAt = next == State.CHECKING ? checkedAt : clock.instant();
      toTell = gate;
      allowExports = exportsAllowed();
    }
    if (toTell != null) {
      if (allowExports) {
        toTell.resume();
      } else {
        toTell.pause(why);
      }
    }
  }
}
