package io.ballast.dataplane;

import static io.ballast.dataplane.Snapshots.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.dataplane.SnapshotApplier.Source;
import io.ballast.snapshot.BodyStats;
import io.ballast.snapshot.SnapshotFetcher;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotLayout;
import io.ballast.snapshot.SnapshotPublisher;
import io.ballast.snapshot.VerifiedSnapshot;
import io.ballast.storage.ETag;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.filesystem.FilesystemBackend;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

class StorageFollowerTest {

  private static final Duration LIMIT = Duration.ofSeconds(5);
  private static final SnapshotLayout LAYOUT =
      new SnapshotLayout("", Snapshots.GROUP, SnapshotKind.RESOURCES);

  /** Counts reads: every get, pointer reads, and bodies actually handed out. */
  private static final class CountingStorage implements ObjectStorage {
    private final ObjectStorage delegate;
    final AtomicInteger gets = new AtomicInteger();
    final AtomicInteger pointerReads = new AtomicInteger();
    final AtomicInteger bodyDownloads = new AtomicInteger();

    CountingStorage(ObjectStorage delegate) {
      this.delegate = delegate;
    }

    @Override
    public String describe() {
      return "counting " + delegate.describe();
    }

    @Override
    public Mono<Void> checkExists() {
      return delegate.checkExists();
    }

    @Override
    public Mono<ObjectMeta> put(ObjectKey key, Flux<ByteBuffer> body, PutOptions options) {
      return delegate.put(key, body, options);
    }

    @Override
    public Mono<ReadResult> get(ObjectKey key, ReadCondition condition) {
      return delegate
          .get(key, condition)
          .doOnNext(
              result -> {
                gets.incrementAndGet();
                if (key.equals(LAYOUT.latestKey())) {
                  pointerReads.incrementAndGet();
                } else if (result instanceof ReadResult.Found
                    && LAYOUT.versionOf(key).isPresent()) {
                  bodyDownloads.incrementAndGet();
                }
              });
    }

    @Override
    public Mono<ObjectMeta> head(ObjectKey key) {
      return delegate.head(key);
    }

    @Override
    public Flux<ObjectMeta> list(ObjectKey prefix) {
      return delegate.list(prefix);
    }

    @Override
    public Mono<Void> delete(ObjectKey key) {
      return delegate.delete(key);
    }
  }

  @TempDir Path dir;
  private ObjectStorage bucket;
  private CountingStorage counting;
  private LocalCache cache;
  private SnapshotApplier applier;
  private DataPlane dataPlane;
  private final AtomicBoolean wanted = new AtomicBoolean(true);
  private final AtomicInteger asked = new AtomicInteger();
  private StorageFollower follower;

  @BeforeEach
  void create() throws IOException {
    Files.createDirectories(dir.resolve("storage").resolve("resources"));
    bucket = new FilesystemBackend(dir.resolve("storage")).bucket("resources");
    counting = new CountingStorage(bucket);
    cache = new LocalCache(dir.resolve("cache"));
    applier = new SnapshotApplier(cache, Clock.systemUTC());
    // Not started: the test starts its one follower itself, and says when it polls.
    dataPlane =
        new DataPlane(
            new Deployment.StorageOnly(
                new Deployment.Storage(
                    Map.of(SnapshotKind.RESOURCES, new SnapshotFetcher(counting, LAYOUT)),
                    Duration.ofMillis(100))),
            applier,
            cache,
            new Followers(dir.resolve("downloads"), Clock.systemUTC()),
            Clock.systemUTC());
  }

  @AfterEach
  void stop() {
    if (follower != null) {
      follower.close();
    }
    // An apply already under way still writes the local cache; let it end before the temp folder
    // is deleted.
    synchronized (applier) {
    }
  }

  private ETag publish(long version, String uri) {
    VerifiedSnapshot snapshot = Snapshots.resources(dir, version, Snapshots.routeTo(uri));
    var manifest = snapshot.manifest();
    new SnapshotPublisher(bucket, LAYOUT, 5, "cp-test", Clock.systemUTC())
        .publish(
            version,
            snapshot.body(),
            new BodyStats(manifest.bodySize(), manifest.bodySha256(), manifest.counts()))
        .block(LIMIT);
    return bucket.head(LAYOUT.latestKey()).block(LIMIT).etag();
  }

  private void startFollower(Optional<ETag> cachedPointerEtag) {
    follower =
        new StorageFollower(
            new SnapshotFetcher(counting, LAYOUT),
            SnapshotKind.RESOURCES,
            dataPlane,
            Duration.ofMillis(100),
            () -> {
              asked.incrementAndGet();
              return wanted.get();
            },
            dir.resolve("downloads"),
            cachedPointerEtag);
    follower.start();
  }

  /** Waits for {@code ticks} more polls of the loop, whatever they did. */
  private void awaitTicks(int ticks) {
    int target = asked.get() + ticks;
    await(ticks + " more ticks", LIMIT, () -> asked.get() >= target);
  }

  private long version() {
    return applier.version(SnapshotKind.RESOURCES);
  }

  @Test
  void appliesThePublishedSnapshotAndCachesItWithThePointerEtag() {
    ETag pointer = publish(1, "/ip");

    startFollower(Optional.empty());

    await("version 1 is served", LIMIT, () -> version() == 1);
    assertThat(applier.table().match("GET", "h", "/ip")).isPresent();
    assertThat(applier.serving().orElseThrow().source()).isEqualTo(Source.STORAGE);
    // The applier serves first and writes the cache right after.
    await("version 1 is cached", LIMIT, () -> cache.load(SnapshotKind.RESOURCES).isPresent());
    LocalCache.Entry cached = cache.load(SnapshotKind.RESOURCES).orElseThrow();
    assertThat(cached.snapshot().version()).isEqualTo(1);
    assertThat(cached.storageEtag()).contains(pointer);
  }

  @Test
  void fetchesNothingWhileNotWanted() {
    publish(1, "/ip");
    wanted.set(false);

    startFollower(Optional.empty());
    awaitTicks(5);

    assertThat(counting.gets).hasValue(0);
    assertThat(version()).isEqualTo(SnapshotApplier.NONE);

    wanted.set(true);
    await("version 1 is served once wanted", LIMIT, () -> version() == 1);
  }

  @Test
  void appliesANewerPublishedVersion() {
    publish(1, "/ip");
    startFollower(Optional.empty());
    await("version 1 is served", LIMIT, () -> version() == 1);

    publish(2, "/headers");

    await("version 2 is served", LIMIT, () -> version() == 2);
    assertThat(applier.table().match("GET", "h", "/headers")).isPresent();
    assertThat(applier.table().match("GET", "h", "/ip")).isEmpty();
    assertThat(counting.bodyDownloads).hasValue(2);
  }

  @Test
  void anUnchangedPointerIsNotDownloadedAgain() {
    publish(1, "/ip");
    startFollower(Optional.empty());
    await("version 1 is served", LIMIT, () -> version() == 1);
    int pointerReads = counting.pointerReads.get();

    awaitTicks(5);

    assertThat(counting.pointerReads.get()).isGreaterThan(pointerReads);
    assertThat(counting.bodyDownloads).hasValue(1);
    assertThat(follower.lastError()).isEmpty();
  }

  @Test
  void aCachedPointerEtagSavesTheFirstDownload() {
    ETag pointer = publish(1, "/ip");

    startFollower(Optional.of(pointer));
    awaitTicks(3);

    assertThat(counting.pointerReads.get()).isPositive();
    assertThat(counting.bodyDownloads).hasValue(0);
  }

  @Test
  void reportsAnEmptyBucket() {
    startFollower(Optional.empty());

    await("the empty bucket is reported", LIMIT, () -> follower.lastError().isPresent());
    assertThat(follower.lastError().orElseThrow()).contains("no resources snapshot");
    assertThat(follower.lastPoll()).isPresent();
    assertThat(version()).isEqualTo(SnapshotApplier.NONE);
  }
}
