package io.ballast.dataplane;

import io.ballast.dataplane.SnapshotApplier.Source;
import io.ballast.fs.PrivateFiles;
import io.ballast.snapshot.ExportFetcher;
import io.ballast.snapshot.FetchResult;
import io.ballast.snapshot.SnapshotFormatException;
import io.ballast.snapshot.SnapshotIntegrityException;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.storage.AccessDeniedException;
import io.ballast.storage.ChecksumMismatchException;
import io.ballast.storage.ETag;
import io.ballast.storage.InvalidStorageConfigException;
import io.ballast.storage.MissingBucketException;
import io.ballast.storage.ObjectNotFoundException;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * Polls object storage's export pointer with If-None-Match on its ETag (an unchanged pointer costs
 * no body, a re-signed one at the served version no body either) and offers the newer exports it
 * finds, both parts verified, to the data plane. Polls while {@code wanted} says so ({@link
 * DataPlane#pollsStorage()}). Every pointer read is also news of its freshness ({@link
 * DataPlane#pointerRead}).
 *
 * <p>Each poll has a deadline, and the next poll is scheduled whatever the last one did, so a
 * storage that hangs is reported and polled again instead of stopping the loop. Polls are {@code
 * interval} apart, ±20 % at random; a failure is reported with its {@link ReasonCode} and retried
 * after a backoff that depends on what failed (see {@link #failed}).
 */
public final class StorageFollower implements Follower {

  private static final Logger log = LoggerFactory.getLogger(StorageFollower.class);

  /** The longest wait between two polls of a storage that fails. */
  static final Duration BACKOFF_CAP = Duration.ofSeconds(60);

  /** The first retry after storage answered 5xx or timed out on its side (S3's SlowDown). */
  static final Duration SERVER_ERROR_BACKOFF = Duration.ofSeconds(2);

  /** A poll's deadline when none is given: the storage backends' default {@code timeout}. */
  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(30);

  /** The codes about storage itself, ended by any answer. */
  private static final List<ReasonCode> STORAGE_DOWN =
      List.of(
          ReasonCode.STORAGE_UNREACHABLE,
          ReasonCode.ACCESS_DENIED,
          ReasonCode.STORAGE_MISSING_BUCKET,
          ReasonCode.STORAGE_REJECTED,
          ReasonCode.BODY_MISSING);

  private final ExportFetcher fetcher;
  private final DataPlane dataPlane;
  private final Duration interval;
  private final Duration deadline;
  private final BooleanSupplier wanted;
  private final Path downloadDir;

  /** Unreachable: the first retry one interval on, doubling to the cap. */
  private final Backoff unreachable;

  /** 5xx: 2 s, 4 s… capped at two intervals, so that storage back is followed within 2P. */
  private final Backoff serverError;

  /** Credentials refused, a bucket missing: not cured by waiting, so retried slowly. */
  private final Backoff misconfigured;

  private volatile ETag pointerEtag;
  private volatile Instant lastPoll;
  private volatile Instant nextPoll;
  private volatile String lastError;
  private volatile ReasonCode state;
  private volatile int failures;

  /** Whether the pointer last read names an export older than the one served. */
  private volatile boolean pointerRolledBack;

  /** The version the pointer named when last read; -1 before. */
  private volatile long versionSeen = -1;

  private Disposable loop;

  public StorageFollower(
      ExportFetcher fetcher,
      DataPlane dataPlane,
      Duration interval,
      BooleanSupplier wanted,
      Path downloadDir,
      Optional<ETag> cachedPointerEtag) {
    this(fetcher, dataPlane, interval, DEFAULT_DEADLINE, wanted, downloadDir, cachedPointerEtag);
  }

  /**
   * @param deadline the longest one poll (pointer and body) may take before it counts as a storage
   *     that does not answer
   */
  public StorageFollower(
      ExportFetcher fetcher,
      DataPlane dataPlane,
      Duration interval,
      Duration deadline,
      BooleanSupplier wanted,
      Path downloadDir,
      Optional<ETag> cachedPointerEtag) {
    this.fetcher = fetcher;
    this.dataPlane = dataPlane;
    this.interval = interval;
    this.deadline = deadline;
    this.wanted = wanted;
    this.downloadDir = downloadDir;
    this.pointerEtag = cachedPointerEtag.orElse(null);
    this.unreachable = new Backoff(interval, BACKOFF_CAP);
    Duration twoIntervals = interval.multipliedBy(2);
    this.serverError =
        new Backoff(
            SERVER_ERROR_BACKOFF,
            twoIntervals.compareTo(SERVER_ERROR_BACKOFF) > 0 ? twoIntervals : SERVER_ERROR_BACKOFF);
    Duration fourIntervals = interval.multipliedBy(4);
    this.misconfigured =
        new Backoff(
            fourIntervals.compareTo(BACKOFF_CAP) < 0 ? fourIntervals : BACKOFF_CAP, BACKOFF_CAP);
  }

  public void start() {
    loop = Mono.defer(this::step).repeat().subscribe();
  }

  /** One poll if wanted, then the wait until the next. */
  private Mono<Void> step() {
    Mono<Duration> next;
    if (wanted.getAsBoolean()) {
      next = pollOnce();
    } else {
      // Standing down (the CP answers): the next outage starts from a clean slate.
      failures = 0;
      next = Mono.just(interval);
    }
    return next.flatMap(
            delay -> {
              nextPoll = Instant.now().plus(delay);
              return Mono.delay(delay);
            })
        .then();
  }

  /** One poll; emits how long to wait before the next, whatever happened. */
  private Mono<Duration> pollOnce() {
    lastPoll = Instant.now();
    return Mono.fromCallable(() -> PrivateFiles.createFolder(downloadDir))
        .then(Mono.defer(() -> fetcher.fetchLatest(pointerEtag, dataPlane.version(), downloadDir)))
        .timeout(deadline)
        .map(
            result -> {
              // Cleared before handling, which may report a bucket that holds no snapshot yet.
              lastError = null;
              state = null;
              failures = 0;
              handle(result);
              return Backoff.jittered(interval);
            })
        .onErrorResume(error -> Mono.just(failed(error)));
  }

  private void handle(FetchResult result) {
    if (result instanceof FetchResult.Fetched fetched) {
      dataPlane.storageRecovered(name());
      VerifiedExport export = fetched.export();
      pointerRolledBack = false;
      try {
        versionSeen = export.version();
        dataPlane.pointerRead(export.manifest(), Source.STORAGE);
        dataPlane.storageOffers(name(), export, fetched.pointerEtag());
        // Remember the pointer whatever the outcome: re-reading a refused export gains nothing;
        // the next change of the pointer is what matters.
        pointerEtag = fetched.pointerEtag();
      } finally {
        for (SnapshotKind kind : SnapshotKind.values()) {
          deleteQuietly(export.part(kind).body());
        }
      }
    } else if (result instanceof FetchResult.NoNewer noNewer) {
      // The pointer moved but names no newer export: re-signed (fresher), or rolled back.
      pointerEtag = noNewer.pointerEtag();
      dataPlane.pointerRead(noNewer.signed().manifest(), Source.STORAGE);
      long served = dataPlane.version();
      long version = noNewer.signed().version();
      versionSeen = version;
      if (version == served) {
        dataPlane.confirm(version, Source.STORAGE);
      }
      rolledBack(version, served);
      dataPlane.storageHolds(name(), version);
    } else if (result instanceof FetchResult.NotModified) {
      if (!pointerRolledBack) {
        // The same pointer as last read: a rollback it named stays reported.
        dataPlane.storageRecovered(name());
      }
      dataPlane.storageUnchanged(name());
    } else if (result instanceof FetchResult.Missing) {
      dataPlane.storageRecovered(name());
      lastError = "no export in " + fetcher.describe() + " yet";
      dataPlane.storageFailed(name(), lastError);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.debug("cannot delete {}: {}", file, e.toString());
    }
  }

  /** A pointer older than the version served is refused by the version rule: said so. */
  private void rolledBack(long version, long served) {
    pointerRolledBack = served != SnapshotApplier.NONE && version < served;
    if (pointerRolledBack) {
      dataPlane.storageProblem(
          name(),
          ReasonCode.ROLLBACK_REFUSED,
          "its pointer names export "
              + version
              + ", older than the served "
              + served
              + "; refused, serving "
              + served);
    } else {
      dataPlane.storageRecovered(name());
    }
  }

  /**
   * Reports a failed poll and returns the wait before the next: one interval for what a moment may
   * cure (a body not there yet, a corrupt download), backoff for a storage down or refusing.
   */
  private Duration failed(Throwable error) {
    int failure = ++failures;
    String message = describe(error);
    lastError = message;
    ReasonCode code;
    Duration delay;
    if (error instanceof SnapshotIntegrityException || error instanceof ChecksumMismatchException) {
      code = signatureProblem(message) ? ReasonCode.SIGNATURE : ReasonCode.CHECKSUM;
      dataPlane.reject(SnapshotApplier.NONE, Source.STORAGE, code, message);
      delay = Backoff.jittered(interval);
    } else if (error instanceof SnapshotFormatException) {
      // The version is in the message (the body key); the manifest itself may be what failed.
      code = null;
      dataPlane.reject(SnapshotApplier.NONE, Source.STORAGE, message);
      delay = Backoff.jittered(interval);
    } else if (error instanceof ObjectNotFoundException) {
      code = ReasonCode.BODY_MISSING;
      delay = Backoff.jittered(interval);
    } else if (error instanceof AccessDeniedException) {
      code = ReasonCode.ACCESS_DENIED;
      delay = misconfigured.delay(failure);
    } else if (error instanceof MissingBucketException) {
      code = ReasonCode.STORAGE_MISSING_BUCKET;
      delay = misconfigured.delay(failure);
    } else if (error instanceof InvalidStorageConfigException) {
      code = ReasonCode.STORAGE_REJECTED;
      delay = misconfigured.delay(failure);
    } else if (error instanceof TimeoutException) {
      code = ReasonCode.STORAGE_UNREACHABLE;
      message = fetcher.describe() + " did not answer within " + deadline.toMillis() + " ms";
      lastError = message;
      delay = unreachableDelay(failure);
    } else if (refused(error)) {
      code = ReasonCode.STORAGE_UNREACHABLE;
      delay = unreachableDelay(failure);
    } else {
      // 5xx, SlowDown, a reset or a timeout on the backend's side.
      code = ReasonCode.STORAGE_UNREACHABLE;
      delay = serverError.delay(failure);
    }
    // One WARN when a run of failures starts or its kind changes; the repeats at DEBUG (a cold data
    // plane asks several times an interval), the state and count are on /status.
    boolean news = failure == 1 || code != state;
    state = code;
    if (code != null && STORAGE_DOWN.contains(code)) {
      dataPlane.storageProblem(name(), code, message);
      dataPlane.storageFailed(name(), message);
    }
    if (news) {
      log.warn(
          "polling {} for an export failed, next poll in {} ms: {}",
          fetcher.describe(),
          delay.toMillis(),
          message);
    } else {
      log.debug(
          "polling {} for an export failed ({} in a row), next poll in {} ms: {}",
          fetcher.describe(),
          failure,
          delay.toMillis(),
          message);
    }
    return delay;
  }

  /**
   * The wait after {@code failure} polls that found nothing listening or no answer: backoff while
   * an export is served. A data plane that serves nothing has nothing to protect by waiting longer
   * and is not ready until a source answers, so it asks again within half an interval (0.3–0.5 of
   * it, jittered so that data planes spread out): storage back is followed within one poll. That is
   * two or three requests an interval, a few more than a healthy data plane's one, and only until
   * something is served. A 5xx still backs off: a server that answers asked for it.
   */
  private Duration unreachableDelay(int failure) {
    if (dataPlane.version() != SnapshotApplier.NONE) {
      return unreachable.delay(failure);
    }
    return Duration.ofMillis(
        Math.round(interval.toMillis() * (0.3 + 0.2 * ThreadLocalRandom.current().nextDouble())));
  }

  private static boolean signatureProblem(String message) {
    String lower = message.toLowerCase(Locale.ROOT);
    return lower.contains("signature") || lower.contains("unsigned") || lower.contains("trusted");
  }

  /** Whether the connection itself was refused: nothing listens, as opposed to an answer. */
  private static boolean refused(Throwable error) {
    for (Throwable e = error; e != null; e = e.getCause()) {
      if (e instanceof ConnectException) {
        return true;
      }
      String message = e.getMessage();
      if (message != null && message.toLowerCase(Locale.ROOT).contains("connection refused")) {
        return true;
      }
    }
    return false;
  }

  private static String describe(Throwable error) {
    String message = error.getMessage();
    return message == null || message.isBlank() ? error.getClass().getSimpleName() : message;
  }

  /** The backend polled, as its bucket describes itself: one follower per backend. */
  public String name() {
    return fetcher.describe();
  }

  public Optional<Instant> lastPoll() {
    return Optional.ofNullable(lastPoll);
  }

  public Optional<String> lastError() {
    return Optional.ofNullable(lastError);
  }

  /** Polls failed in a row. */
  int failures() {
    return failures;
  }

  @Override
  public Map<String, Object> status() {
    Map<String, Object> status = new LinkedHashMap<>();
    ReasonCode now = state;
    status.put("state", now == null ? "ok" : now.id());
    lastPoll().ifPresent(t -> status.put("last_poll", t.toString()));
    Instant next = nextPoll;
    if (next != null && wanted.getAsBoolean()) {
      status.put("next_poll", next.toString());
    }
    if (failures > 0) {
      status.put("failures_in_a_row", failures);
    }
    lastError().ifPresent(e -> status.put("last_error", e));
    status.put("version_seen", versionSeen);
    return status;
  }

  @Override
  public void close() {
    if (loop != null) {
      loop.dispose();
    }
  }
}
