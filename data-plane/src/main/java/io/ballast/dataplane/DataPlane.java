package io.ballast.dataplane;

import io.ballast.dataplane.SnapshotApplier.Rejection;
import io.ballast.dataplane.SnapshotApplier.Source;
import io.ballast.gateway.route.RouteTable;
import io.ballast.snapshot.ExportFetcher;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.storage.ETag;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data plane's promise in one place: it never serves a configuration it should not, never stops
 * serving one it may, and always says which one it serves and why.
 *
 * <p>It decides which sources run in its {@link Deployment} and starts them after the local cache:
 * the CP's followers (and storage's, polled only while the CP is unreachable), storage alone, the
 * standalone file, or the node's own CP. The sources report to it; it applies through {@link
 * SnapshotApplier}, whose version rule keeps anything older or invalid out, and turns what the
 * sources say into a {@link Mode}. Each change of mode is a {@link Transition} with its reason,
 * logged once and shown on {@code GET /status}.
 */
public final class DataPlane implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DataPlane.class);

  /**
   * How far this node's clock may differ from the CP's before {@link ReasonCode#CLOCK_SKEW}: wide
   * enough that a clock a few minutes off raises no false alarm.
   */
  static final Duration CLOCK_TOLERANCE = Duration.ofMinutes(15);

  /** How many transitions {@code GET /status} shows, the newest last. */
  static final int TRANSITIONS_KEPT = 10;

  /** Where the configuration served comes from now. */
  public enum Mode {
    /** Nothing served yet: no cached snapshot, and no source has delivered one. */
    NOT_SERVING,
    /**
     * The last known good configuration, kept on local disk, while no source answers: at start
     * until one does, and while the CP (and storage, when there is one) cannot be reached.
     */
    CACHE,
    /** The CP answers and is followed (or, in the traditional role, this node's own CP). */
    CONTROL_PLANE,
    /**
     * Storage answers and is followed: the CP is unreachable ({@code fallback_cp}), or storage is
     * the only source (API7's storage-only mode). A version newer than the one served is applied.
     */
    STORAGE,
    /** APISIX's standalone file: its last valid content is served. */
    FILE;

    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** A change of mode and why. */
  public record Transition(Mode from, Mode to, String reason, Instant at) {}

  private final Deployment deployment;
  private final SnapshotApplier applier;
  private final LocalCache cache;
  private final Sources sources;
  private final Clock clock;

  private final Health health = new Health();
  private final List<Follower> followers = new ArrayList<>();
  private final Map<String, Follower> storageFollowers = new LinkedHashMap<>();
  private Follower fileFollower;

  // What the sources said, written under this object's lock; the mode follows from it.
  /** The CP answers: its last poll got a 200 or 304 (traditional: its snapshot is served). */
  private volatile boolean controlPlaneAnswers;

  private volatile Instant controlPlaneSince;
  private volatile String controlPlaneError;

  /**
   * The storage backends whose last poll answered, while storage is polled: storage answers while
   * one of them does, so one backend down among several changes no mode (redundant storage).
   */
  private final Set<String> storageAnswering = new HashSet<>();

  /** By storage backend's name (and {@link #BUCKET_WATCH}): the storage problem it reports now. */
  private final Map<String, Health.Reason> storageProblems = new LinkedHashMap<>();

  /** The name under which the bucket watch reports a missing bucket, beside the backends. */
  public static final String BUCKET_WATCH = "bucket check";

  /** The name a storage answer goes by when its backend is not named (a single backend). */
  static final String ONE_BACKEND = "storage";

  /** The standalone file's content is served. */
  private volatile boolean fileServed;

  /**
   * The newest export pointer read from storage or the cache (by version, then signing time): its
   * {@code expires_at} says whether what storage offers is still fresh.
   */
  private ExportManifest newestPointer;

  private Source newestPointerSource;

  /** The storage pointer ETag the cached export was read with, for storage's first poll. */
  private Optional<ETag> cachedStoragePointer = Optional.empty();

  /** Why this node's clock seems off, by the CP's {@code Date} and by a {@code signed_at}. */
  private String skewByDate;

  private String skewBySignature;

  private Mode mode = Mode.NOT_SERVING;
  private Instant since;
  private String reason = "no snapshot loaded yet";
  private final Deque<Transition> transitions = new ArrayDeque<>();

  public DataPlane(
      Deployment deployment,
      SnapshotApplier applier,
      LocalCache cache,
      Sources sources,
      Clock clock) {
    this.deployment = deployment;
    this.applier = applier;
    this.cache = cache;
    this.sources = sources;
    this.clock = clock;
    this.since = clock.instant();
    this.controlPlaneSince = since;
  }

  /**
   * Serves the local cache, then starts the sources of the deployment. On a failure the caller
   * closes this data plane, which stops what was started.
   */
  public void start() {
    serveCache();
    startSources();
  }

  /**
   * Applies the cached export, its signature and checksums checked again, so that a node can answer
   * requests before it starts anything it needs only to follow its sources (clients, connections).
   * A cache that fails is set aside and said so. Called once, before {@link #startSources()}.
   */
  public void serveCache() {
    Optional<LocalCache.Entry> entry = cache.load();
    if (entry.isEmpty()) {
      cache
          .lastRefusal()
          .ifPresent(
              refusal ->
                  report(
                      refusal.signature() ? ReasonCode.SIGNATURE : ReasonCode.CHECKSUM,
                      "the local cache was set aside: " + refusal.reason()));
      return;
    }
    VerifiedExport export = entry.get().export();
    if (!(deployment instanceof Deployment.File)) {
      // A standalone file's export is unsigned and never expires: freshness is storage's matter.
      pointerRead(export.manifest(), Source.CACHE);
    }
    offer(export, Source.CACHE, entry.get().storageEtag());
    cachedStoragePointer = entry.get().storageEtag();
  }

  /**
   * Starts the sources of the deployment; storage's first poll sends the ETag the cached export was
   * read with.
   */
  public void startSources() {
    if (deployment instanceof Deployment.ControlPlane cp) {
      followers.add(sources.controlPlane(cp.hosts(), cp.gatewayGroup(), this));
      cp.fallback().ifPresent(storage -> followStorage(storage, cachedStoragePointer));
    } else if (deployment instanceof Deployment.StorageOnly storageOnly) {
      followStorage(storageOnly.storage(), cachedStoragePointer);
    } else if (deployment instanceof Deployment.File file) {
      fileFollower = sources.standaloneFile(file, this);
      followers.add(fileFollower);
    } else if (deployment instanceof Deployment.Traditional traditional) {
      followers.add(sources.localControlPlane(traditional.exports().get(), this));
    }
  }

  /** One follower per storage backend. */
  private void followStorage(Deployment.Storage storage, Optional<ETag> cachedPointer) {
    for (ExportFetcher fetcher : storage.fetchers()) {
      Follower follower = sources.storage(fetcher, storage.pollInterval(), cachedPointer, this);
      storageFollowers.put(fetcher.describe(), follower);
      followers.add(follower);
    }
  }

  // ---- what the proxy and the node read

  /** The table for the next request: read once per request by the proxy. */
  public RouteTable table() {
    return applier.table();
  }

  /** Whether a configuration is served: what {@code /status/ready} answers. */
  public boolean serving() {
    return applier.serving().isPresent();
  }

  public synchronized Mode mode() {
    return mode;
  }

  /** The transitions kept, oldest first. */
  public synchronized List<Transition> transitions() {
    return List.copyOf(transitions);
  }

  /**
   * Whether storage is polled now: always when it is the only source; with a CP, only while the CP
   * does not answer (before its first answer too, so that a DP starting during a CP outage takes
   * what storage has).
   */
  public boolean pollsStorage() {
    if (deployment instanceof Deployment.StorageOnly) {
      return true;
    }
    return deployment instanceof Deployment.ControlPlane cp
        && cp.fallback().isPresent()
        && !controlPlaneAnswers;
  }

  public boolean controlPlaneConnected() {
    return controlPlaneAnswers;
  }

  /** The CP's last error, kept after it answers again. */
  public Optional<String> controlPlaneError() {
    return Optional.ofNullable(controlPlaneError);
  }

  // ---- health: the reasons this data plane is degraded or not ready

  /**
   * Puts {@code code} in force with {@code detail} (a new detail replaces the old one). A code that
   * was not in force is logged once at WARN and counted.
   */
  public void report(ReasonCode code, String detail) {
    if (health.report(code, detail, clock.instant())) {
      log.warn("data plane health: {}: {}", code.id(), detail);
    }
  }

  /** Ends {@code code}, logged at INFO when it was in force. */
  public void clear(ReasonCode code) {
    Health.Reason ended = health.clear(code);
    if (ended != null) {
      log.info("data plane health: {} cleared (was: {})", code.id(), ended.detail());
    }
  }

  /**
   * Storage {@code backend} is in {@code code} (unreachable, access denied, a missing bucket or
   * body, a rolled-back pointer), replacing what it reported before. With several backends each
   * keeps its own: a code is in force while any backend reports it, its detail names each one, and
   * one backend answering never clears what another reports.
   */
  public synchronized void storageProblem(String backend, ReasonCode code, String detail) {
    storageProblems.put(backend, new Health.Reason(code, detail, clock.instant()));
    publishStorageProblems();
  }

  /** Storage {@code backend} answers again: what it reported ends. */
  public synchronized void storageRecovered(String backend) {
    if (storageProblems.remove(backend) != null) {
      publishStorageProblems();
    }
  }

  private void publishStorageProblems() {
    for (ReasonCode code : STORAGE_CODES) {
      List<String> details = new ArrayList<>();
      storageProblems.forEach(
          (backend, problem) -> {
            if (problem.code() == code) {
              details.add(backend + ": " + problem.detail());
            }
          });
      if (details.isEmpty()) {
        clear(code);
      } else {
        report(code, String.join("; ", details));
      }
    }
  }

  /** Whether {@code code} is in force now. */
  public boolean reports(ReasonCode code) {
    return health.has(code);
  }

  /** {@code ok}, {@code degraded} or {@code not_ready}. */
  public String healthState() {
    return health.state(serving());
  }

  /**
   * What a source failed to deliver, in words: while nothing is served, it is also why the node is
   * not ready.
   */
  private void noSourceYet(String problem) {
    if (!serving()) {
      report(ReasonCode.NO_SOURCE, "nothing is served and no source answers; last: " + problem);
    }
  }

  // ---- what the sources report

  /** The version of the export served, {@link SnapshotApplier#NONE} when none. */
  long version() {
    return applier.version();
  }

  Optional<Rejection> lastRejection() {
    return applier.lastRejection();
  }

  /**
   * A source delivers {@code export}: both parts are applied if it is newer than the one served and
   * valid, or neither.
   *
   * @return as {@link SnapshotApplier#apply(VerifiedExport, Source, Optional)}: true when it is
   *     served now
   */
  boolean offer(VerifiedExport export, Source source, Optional<ETag> storageEtag) {
    long before = applier.version();
    boolean served = applier.apply(export, source, storageEtag);
    afterApply(served, export.version(), before);
    afterResources(source, export.version(), before, served);
    checkFreshness();
    return served;
  }

  private void afterApply(boolean served, long version, long before) {
    if (served) {
      clear(ReasonCode.NO_SOURCE);
      if (version > before) {
        // A newer valid configuration: what was refused before is superseded.
        clear(ReasonCode.CHECKSUM);
        clear(ReasonCode.SIGNATURE);
        clear(ReasonCode.CP_BEHIND);
        clear(ReasonCode.SHRINK);
      }
    } else {
      reportShrinkHeld(version);
    }
  }

  /** The applier held {@code version} by the shrink guard: say so until a newer one is served. */
  private void reportShrinkHeld(long version) {
    applier
        .shrinkHeld()
        .filter(held -> held.version() == version)
        .ifPresent(
            held ->
                report(
                    ReasonCode.SHRINK,
                    "export "
                        + held.version()
                        + " from "
                        + held.source().id()
                        + " "
                        + held.verdict().describe()
                        + "; serving version "
                        + applier.version()
                        + " until an operator confirms it on the CP"
                        + " (POST /apisix/admin/ballast/confirm_shrink)"));
  }

  private synchronized void afterResources(
      Source source, long version, long before, boolean served) {
    if (!served && !(source == Source.STORAGE && version < before)) {
      // Refused (the applier recorded why) or older: nothing the mode depends on changed.
      return;
    }
    String why;
    switch (source) {
      case CACHE -> why = "snapshot " + version + " loaded from the local cache";
      case FILE -> {
        fileServed = true;
        why = "standalone file snapshot " + version + " applied";
      }
      case CONTROL_PLANE -> {
        if (deployment instanceof Deployment.Traditional) {
          controlPlaneAnswers = true;
          why = "snapshot " + version + " built by this node's control plane";
        } else {
          why = "control plane snapshot " + version + " applied";
        }
      }
      case STORAGE -> {
        if (!pollsStorage()) {
          // A poll that was under way when the CP answered again: the CP is followed.
          return;
        }
        if (storageAnswering.isEmpty()) {
          storageAnswering.add(ONE_BACKEND);
        }
        why = storageReason(version, before);
      }
      default -> throw new IllegalArgumentException("unknown source " + source);
    }
    update(why);
  }

  private String storageReason(long version, long before) {
    if (before == SnapshotApplier.NONE) {
      return "storage snapshot " + version + " applied; nothing was served";
    }
    if (version > before) {
      return "storage snapshot "
          + version
          + " is newer than "
          + (mode == Mode.CACHE ? "cached " : "served ")
          + before;
    }
    if (version == before) {
      return "storage holds the served version " + version;
    }
    return "storage holds version " + version + ", older than the served " + before;
  }

  /** A source with the served version confirms it: see {@link SnapshotApplier#confirm}. */
  void confirm(long version, Source source) {
    applier.confirm(version, source);
  }

  /** A snapshot refused before it reached {@link #offer}: the mode and version stay. */
  void reject(long version, Source source, String why) {
    applier.reject(version, source, why);
  }

  /**
   * A snapshot refused before it reached {@link #offer} for a reason with a code ({@link
   * ReasonCode#CHECKSUM}, {@link ReasonCode#SIGNATURE}): recorded and reported.
   */
  void reject(long version, Source source, ReasonCode code, String why) {
    applier.reject(version, source, why);
    report(code, source.id() + ": " + why);
  }

  /**
   * A CP answered that it holds {@code cpVersion}: one behind the version served is reported
   * ({@link ReasonCode#CP_BEHIND}) and the newer one kept; one at or above it ends the report.
   */
  void controlPlaneAt(URI host, long cpVersion, Optional<String> cpLineage) {
    long served = applier.version();
    Optional<String> servedLineage = applier.serving().map(s -> s.manifest().lineage());
    if (cpLineage.isPresent()
        && servedLineage.isPresent()
        && !cpLineage.get().equals(servedLineage.get())) {
      report(
          ReasonCode.CP_BEHIND,
          "control plane "
              + host
              + " is of lineage "
              + cpLineage.get()
              + " (version "
              + cpVersion
              + "), not the served export's "
              + servedLineage.get()
              + " (version "
              + served
              + "); serving "
              + served
              + " until an operator settles which lineage wins");
    } else if (served != SnapshotApplier.NONE && cpVersion < served) {
      report(
          ReasonCode.CP_BEHIND,
          "control plane "
              + host
              + " is at version "
              + cpVersion
              + ", behind the served "
              + served
              + "; serving "
              + served);
    } else {
      clear(ReasonCode.CP_BEHIND);
    }
  }

  /**
   * The CP's clock as its {@code Date} header gave it: a difference beyond {@link #CLOCK_TOLERANCE}
   * is reported as {@link ReasonCode#CLOCK_SKEW}. Serving goes on either way: versions, not clocks,
   * order snapshots.
   */
  synchronized void controlPlaneClock(URI host, Instant theirs) {
    Duration skew = Duration.between(theirs, clock.instant());
    skewByDate =
        beyondTolerance(skew)
            ? "this node's clock is "
                + skew.abs().toSeconds()
                + " s "
                + (skew.isNegative() ? "behind" : "ahead of")
                + " control plane "
                + host
                + " (tolerance "
                + CLOCK_TOLERANCE.toMinutes()
                + " min)"
            : null;
    reportSkew();
  }

  private static boolean beyondTolerance(Duration skew) {
    return skew.abs().compareTo(CLOCK_TOLERANCE.plusSeconds(1)) > 0;
  }

  private void reportSkew() {
    String detail = skewByDate != null ? skewByDate : skewBySignature;
    if (detail == null) {
      clear(ReasonCode.CLOCK_SKEW);
    } else {
      report(ReasonCode.CLOCK_SKEW, detail);
    }
  }

  /**
   * A signed export pointer was read from {@code source} (storage, or the cache at start): the
   * newest such is what freshness is judged by. A {@code signed_at} further in the future than
   * {@link #CLOCK_TOLERANCE} says this node's clock is behind.
   */
  synchronized void pointerRead(ExportManifest pointer, Source source) {
    if (newestPointer == null
        || pointer.version() > newestPointer.version()
        || (pointer.version() == newestPointer.version()
            && pointer.signedAt().isAfter(newestPointer.signedAt()))) {
      newestPointer = pointer;
      newestPointerSource = source;
    }
    Duration ahead = Duration.between(clock.instant(), pointer.signedAt());
    skewBySignature =
        !ahead.isNegative() && beyondTolerance(ahead)
            ? "export "
                + pointer.version()
                + " from "
                + source.id()
                + " was signed at "
                + pointer.signedAt()
                + ", "
                + ahead.toSeconds()
                + " s ahead of this node's clock (tolerance "
                + CLOCK_TOLERANCE.toMinutes()
                + " min)"
            : null;
    reportSkew();
    checkFreshness();
  }

  /**
   * {@link ReasonCode#STALE} while no live CP is followed and the newest pointer read has expired:
   * its CP stopped re-signing it (a frozen pointer, a CP long gone). Serving goes on; a newer or
   * re-signed pointer, or the CP answering, ends it.
   */
  synchronized void checkFreshness() {
    if (newestPointer == null || controlPlaneAnswers) {
      clear(ReasonCode.STALE);
      return;
    }
    if (newestPointer.expiredAt(clock.instant())) {
      report(
          ReasonCode.STALE,
          "the newest export pointer read ("
              + newestPointerSource.id()
              + ", version "
              + newestPointer.version()
              + ", signed at "
              + newestPointer.signedAt()
              + ") expired at "
              + newestPointer.expiresAt()
              + "; serving version "
              + applier.version());
    } else {
      clear(ReasonCode.STALE);
    }
  }

  /** The codes a storage follower reports, ended when storage is no longer polled. */
  private static final List<ReasonCode> STORAGE_CODES =
      List.of(
          ReasonCode.STORAGE_UNREACHABLE,
          ReasonCode.ACCESS_DENIED,
          ReasonCode.STORAGE_MISSING_BUCKET,
          ReasonCode.STORAGE_REJECTED,
          ReasonCode.BODY_MISSING,
          ReasonCode.ROLLBACK_REFUSED);

  /** A CP follower's poll was answered (200 or 304) by {@code host}. */
  synchronized void controlPlaneAnswered(URI host) {
    if (controlPlaneAnswers) {
      return;
    }
    controlPlaneAnswers = true;
    controlPlaneSince = clock.instant();
    storageAnswering.clear();
    // Storage is no longer polled: what the followers said last would stay in force unchecked. The
    // bucket watch goes on, so what it says stays.
    storageProblems.keySet().retainAll(Set.of(BUCKET_WATCH));
    publishStorageProblems();
    checkFreshness();
    String why = "control plane " + host + " answered";
    if (deployment instanceof Deployment.ControlPlane cp && cp.fallback().isPresent()) {
      why += "; storage polling stops";
    }
    if (!update(why)) {
      log.info("{}", why);
    }
  }

  /** A CP follower's poll to {@code host} failed; it retries with backoff. */
  synchronized void controlPlaneUnreachable(URI host, Throwable error) {
    controlPlaneError = error.toString();
    noSourceYet("control plane " + host + ": " + describe(error));
    if (!controlPlaneAnswers) {
      // Only the change is news: the follower keeps retrying, and the status has the error.
      return;
    }
    controlPlaneAnswers = false;
    controlPlaneSince = clock.instant();
    checkFreshness();
    String prefix = "control plane " + host + " ";
    String message = describe(error);
    // An error of the follower's own ("control plane <host> answered 503") names the CP already.
    String why = message.startsWith(prefix) ? message : prefix + "unreachable: " + message;
    if (pollsStorage()) {
      why += "; polling storage";
    }
    if (!update(why)) {
      log.warn("{}; retrying", why);
    }
  }

  /**
   * Storage {@code backend} has a newer export: it answers, and the export is offered as {@link
   * #offer} does.
   */
  boolean storageOffers(String backend, VerifiedExport export, ETag pointerEtag) {
    storageAnswered(backend);
    return offer(export, Source.STORAGE, Optional.of(pointerEtag));
  }

  /**
   * Storage {@code backend}'s pointer names {@code version}, not newer than the one served (the
   * same export re-signed, say): it answers, and nothing is downloaded.
   */
  void storageHolds(String backend, long version) {
    storageAnswered(backend);
    afterResources(Source.STORAGE, version, applier.version(), true);
  }

  private synchronized void storageAnswered(String backend) {
    if (pollsStorage()) {
      storageAnswering.add(backend);
    }
  }

  /**
   * Storage {@code backend}'s pointer names no newer export: it still answers with the one last
   * read.
   */
  synchronized void storageUnchanged(String backend) {
    checkFreshness();
    if (pollsStorage() && storageAnswering.add(backend) && storageAnswering.size() == 1) {
      update("storage answers; its pointer has not moved since the version last read");
    }
  }

  /**
   * A poll of storage {@code backend} found no export or failed; the follower polls again. The mode
   * changes only when no backend answers any more.
   */
  synchronized void storageFailed(String backend, String problem) {
    noSourceYet("storage: " + problem);
    checkFreshness();
    if (storageAnswering.remove(backend) && storageAnswering.isEmpty()) {
      update("storage: " + problem);
    }
  }

  /** Moves to the mode the facts now give, if it differs, with {@code why}; false if it did not. */
  private boolean update(String why) {
    Mode next = currentMode();
    if (next == mode) {
      return false;
    }
    Transition transition = new Transition(mode, next, why, clock.instant());
    mode = next;
    since = transition.at();
    reason = why;
    transitions.addLast(transition);
    while (transitions.size() > TRANSITIONS_KEPT) {
      transitions.removeFirst();
    }
    if (transition.from() == Mode.CONTROL_PLANE) {
      log.warn("data plane mode {} -> {}: {}", transition.from().id(), next.id(), why);
    } else {
      log.info("data plane mode {} -> {}: {}", transition.from().id(), next.id(), why);
    }
    return true;
  }

  private Mode currentMode() {
    if (applier.serving().isEmpty()) {
      return Mode.NOT_SERVING;
    }
    if (controlPlaneAnswers) {
      return Mode.CONTROL_PLANE;
    }
    if (fileServed) {
      return Mode.FILE;
    }
    if (!storageAnswering.isEmpty()) {
      return Mode.STORAGE;
    }
    return Mode.CACHE;
  }

  /** The error's own words; its type when it has none (a timeout, say). */
  private static String describe(Throwable error) {
    String message = error.getMessage();
    return message == null || message.isBlank() ? error.getClass().getSimpleName() : message;
  }

  // ---- status

  /**
   * The data plane's part of {@code GET /status}: {@code config}, {@code instance_version}, {@code
   * last_rejection}, {@code control_plane}, {@code standalone_file} and {@code data_plane} (the
   * mode, since when, why, and the last transitions). Storage's polls are in {@link
   * #storageStatus()}, which the node puts beside the storage settings.
   */
  public synchronized Map<String, Object> status() {
    checkFreshness();
    Map<String, Object> status = new LinkedHashMap<>();
    Map<String, Object> served = new LinkedHashMap<>();
    applier
        .serving()
        .ifPresentOrElse(
            s -> {
              served.put("source", s.source().id());
              served.put("version", s.manifest().version());
              served.put("created_at", s.manifest().createdAt().toString());
              served.put(
                  "age_seconds",
                  Duration.between(s.manifest().createdAt(), clock.instant()).toSeconds());
              served.put("lineage", s.manifest().lineage());
              // Freshness is judged by the newest pointer read, which may be a re-signed one.
              ExportManifest pointer = newestPointer == null ? s.manifest() : newestPointer;
              served.put("signed_at", pointer.signedAt().toString());
              served.put("expires_at", pointer.expiresAt().toString());
              served.put("applied_at", s.appliedAt().toString());
              served.put("counts", s.manifest().part(SnapshotKind.RESOURCES).counts());
            },
            () -> served.put("source", "none"));
    status.put("config", served);
    status.put("instance_version", applier.version());
    applier
        .lastRejection()
        .ifPresent(
            r ->
                status.put(
                    "last_rejection",
                    Map.of(
                        "version",
                        r.version(),
                        "source",
                        r.source().id(),
                        "reason",
                        String.valueOf(r.reason()),
                        "at",
                        r.at().toString())));
    if (deployment instanceof Deployment.ControlPlane) {
      Map<String, Object> cp = new LinkedHashMap<>();
      cp.put("state", controlPlaneAnswers ? "connected" : "disconnected");
      cp.put("since", controlPlaneSince.toString());
      controlPlaneError().ifPresent(e -> cp.put("last_error", e));
      status.put("control_plane", cp);
    } else if (!(deployment instanceof Deployment.Traditional)) {
      status.put("control_plane", Map.of("state", "not_used"));
    }
    if (fileFollower != null) {
      status.put("standalone_file", fileFollower.status());
    }
    Map<String, Object> dataPlane = new LinkedHashMap<>();
    dataPlane.put("mode", mode.id());
    dataPlane.put("since", since.toString());
    dataPlane.put("reason", reason);
    List<Map<String, Object>> kept = new ArrayList<>();
    for (Transition t : transitions) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("at", t.at().toString());
      entry.put("from", t.from().id());
      entry.put("to", t.to().id());
      entry.put("reason", t.reason());
      kept.add(entry);
    }
    dataPlane.put("transitions", kept);
    dataPlane.put("health", health.status(serving()));
    Map<String, Object> cached = new LinkedHashMap<>();
    cached.put("write_failures", cache.writeFailures());
    cache.writeError().ifPresent(error -> cached.put("write_error", error));
    cache.lastRefusal().ifPresent(refusal -> cached.put("set_aside", refusal.reason()));
    dataPlane.put("cache", cached);
    status.put("data_plane", dataPlane);
    return status;
  }

  /**
   * The data plane's metrics in Prometheus' text format: a counter per reason code, whether each is
   * in force, the local cache's failed writes, and the age of the configuration served.
   */
  public String prometheus() {
    checkFreshness();
    StringBuilder out = new StringBuilder(health.prometheus());
    out.append(
            "# HELP ballast_data_plane_cache_write_failures_total Writes of the local cache that"
                + " failed (a full disk); the previous entry stayed whole\n")
        .append("# TYPE ballast_data_plane_cache_write_failures_total counter\n")
        .append("ballast_data_plane_cache_write_failures_total ")
        .append(cache.writeFailures())
        .append('\n');
    applier
        .serving()
        .ifPresent(
            s ->
                out.append(
                        "# HELP ballast_config_age_seconds Age of the configuration served, from"
                            + " its signed created_at\n")
                    .append("# TYPE ballast_config_age_seconds gauge\n")
                    .append("ballast_config_age_seconds ")
                    .append(Duration.between(s.manifest().createdAt(), clock.instant()).toSeconds())
                    .append('\n'));
    return out.toString();
  }

  /**
   * {@code backends}: each storage follower's {@code name}, {@code last_poll}, {@code last_error}
   * and {@code version_seen} (the version its pointer last named), in the order of the file.
   */
  public Map<String, Object> storageStatus() {
    List<Map<String, Object>> backends = new ArrayList<>();
    storageFollowers.forEach(
        (backend, follower) -> {
          Map<String, Object> entry = new LinkedHashMap<>();
          entry.put("name", backend);
          entry.putAll(follower.status());
          backends.add(entry);
        });
    return backends.isEmpty() ? Map.of() : Map.of("backends", backends);
  }

  /** Stops the sources, the last started first. */
  @Override
  public void close() {
    for (int i = followers.size() - 1; i >= 0; i--) {
      try {
        followers.get(i).close();
      } catch (RuntimeException e) {
        log.warn("error while stopping a source: {}", e.toString());
      }
    }
    followers.clear();
  }
}
