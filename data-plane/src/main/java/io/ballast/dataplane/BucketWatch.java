package io.ballast.dataplane;

import io.ballast.storage.AccessDeniedException;
import io.ballast.storage.MissingBucketException;
import io.ballast.storage.ObjectStorage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Checks, from a data plane's start, that every bucket it reads exists, and asks again every
 * interval until each one has been seen. A missing bucket (a typo in the file, an unmounted volume,
 * a bucket not created yet) is reported through the {@link Listener} with the bucket named, and
 * keeps the node not ready until it appears; then the watch ends. A bucket that cannot be checked
 * (storage unreachable, access denied) is not called missing: the storage followers report that.
 */
public final class BucketWatch implements AutoCloseable {

  /**
   * One bucket to check.
   *
   * @param name how the file names it, e.g. {@code fallback_cp.filesystem.resource_bucket}
   */
  public record Bucket(String name, ObjectStorage storage) {
    public Bucket {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(storage, "storage");
    }
  }

  /** Told of each change: buckets missing now, or none any more. */
  public interface Listener {

    /** {@code detail} names every bucket missing now, with where it was looked for. */
    void missing(String detail);

    /** No bucket is missing any more (called only after {@link #missing}). */
    void found();
  }

  private final List<Bucket> buckets;
  private final Duration interval;
  private final Listener listener;
  private final Set<Bucket> seen = ConcurrentHashMap.newKeySet();
  private final Map<Bucket, String> missing = new ConcurrentHashMap<>();
  private String reported;
  private Disposable loop;

  public BucketWatch(List<Bucket> buckets, Duration interval, Listener listener) {
    this.buckets = List.copyOf(buckets);
    this.interval = Objects.requireNonNull(interval, "interval");
    this.listener = Objects.requireNonNull(listener, "listener");
  }

  /** Checks now, then every interval until every bucket has been seen. */
  public void start() {
    loop =
        Flux.interval(Duration.ZERO, interval)
            .onBackpressureDrop()
            .concatMap(tick -> checkUnseen(), 1)
            .takeUntil(allSeen -> allSeen)
            .subscribe();
  }

  /** Checks the buckets not seen yet, in parallel; true once every bucket has been seen. */
  Mono<Boolean> checkUnseen() {
    return Flux.fromIterable(buckets)
        .filter(bucket -> !seen.contains(bucket))
        .flatMap(this::check)
        .then(
            Mono.fromCallable(
                () -> {
                  tell();
                  return seen.size() == buckets.size();
                }));
  }

  private Mono<Void> check(Bucket bucket) {
    return bucket
        .storage()
        .checkExists()
        .then(
            Mono.<Void>fromRunnable(
                () -> {
                  seen.add(bucket);
                  missing.remove(bucket);
                }))
        .onErrorResume(
            error -> {
              if (error instanceof MissingBucketException) {
                missing.put(bucket, error.getMessage());
              } else if (error instanceof AccessDeniedException) {
                // Refused credentials will not tell, and asking every interval would hammer a
                // storage that refuses us: the follower reports access_denied, and a missing
                // bucket once the credentials work.
                seen.add(bucket);
                missing.remove(bucket);
              }
              // Anything else (unreachable, say) says nothing of the bucket; asked again next time.
              return Mono.empty();
            });
  }

  /** Tells the listener when the set of missing buckets changed. */
  private synchronized void tell() {
    List<String> now = new ArrayList<>();
    for (Bucket bucket : buckets) {
      String problem = missing.get(bucket);
      if (problem != null) {
        now.add(bucket.name() + ": " + problem);
      }
    }
    String detail = now.isEmpty() ? null : String.join("; ", now);
    if (Objects.equals(detail, reported)) {
      return;
    }
    if (detail == null) {
      listener.found();
    } else {
      listener.missing(detail);
    }
    reported = detail;
  }

  /** Whether a bucket is missing now: the node is not ready while one is. */
  public boolean anyMissing() {
    return !missing.isEmpty();
  }

  /** The buckets missing now, each with its problem, in the order configured. */
  public Map<String, String> missingNow() {
    Map<String, String> now = new LinkedHashMap<>();
    for (Bucket bucket : buckets) {
      String problem = missing.get(bucket);
      if (problem != null) {
        now.put(bucket.name(), problem);
      }
    }
    return now;
  }

  @Override
  public void close() {
    if (loop != null) {
      loop.dispose();
    }
  }
}
