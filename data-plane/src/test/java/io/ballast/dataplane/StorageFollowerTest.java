package io.ballast.dataplane;

import static io.ballast.dataplane.Snapshots.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.dataplane.SnapshotApplier.Source;
import io.ballast.snapshot.ExportFetcher;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.ExportPublisher;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SigningKeys;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotSigner;
import io.ballast.snapshot.VerifiedExport;
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
import java.util.List;
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
  private static final ExportLayout LAYOUT = new ExportLayout("", Snapshots.GROUP);

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
                    && LAYOUT.part(SnapshotKind.RESOURCES).versionOf(key).isPresent()) {
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
  private ObjectStorage configBucket;
  private final SnapshotSigner signer = new SnapshotSigner(SigningKeys.generate());
  private SignatureVerifier verifier = SignatureVerifier.notRequired();
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
    Files.createDirectories(dir.resolve("storage").resolve("config"));
    bucket = new FilesystemBackend(dir.resolve("storage")).bucket("resources");
    configBucket = new FilesystemBackend(dir.resolve("storage")).bucket("config");
    counting = new CountingStorage(bucket);
    cache = new LocalCache(dir.resolve("cache"));
    applier = new SnapshotApplier(cache, Clock.systemUTC());
    // Not started: the test starts its one follower itself, and says when it polls.
    dataPlane =
        new DataPlane(
            new Deployment.StorageOnly(
                new Deployment.Storage(List.of(fetcher()), Duration.ofMillis(100))),
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

  private ExportFetcher fetcher() {
    return new ExportFetcher(counting, configBucket, LAYOUT, verifier);
  }

  private ExportPublisher publisher(SnapshotSigner by) {
    return new ExportPublisher(
        bucket, configBucket, LAYOUT, 5, by, Duration.ofMinutes(15), Clock.systemUTC());
  }

  private ETag publish(long version, String uri) {
    return publish(version, uri, signer);
  }

  private ETag publish(long version, String uri, SnapshotSigner by) {
    VerifiedExport snapshot = Snapshots.resources(dir, version, Snapshots.routeTo(uri));
    publisher(by).publish(snapshot).block(LIMIT);
    return bucket.head(LAYOUT.latestKey()).block(LIMIT).etag();
  }

  private void startFollower(Optional<ETag> cachedPointerEtag) {
    follower =
        new StorageFollower(
            fetcher(),
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
    return applier.version();
  }

  @Test
  void appliesThePublishedSnapshotAndCachesItWithThePointerEtag() {
    ETag pointer = publish(1, "/ip");

    startFollower(Optional.empty());

    await("version 1 is served", LIMIT, () -> version() == 1);
    assertThat(applier.table().match("GET", "h", "/ip")).isPresent();
    assertThat(applier.serving().orElseThrow().source()).isEqualTo(Source.STORAGE);
    // The applier serves first and writes the cache right after.
    await("version 1 is cached", LIMIT, () -> cache.load().isPresent());
    LocalCache.Entry cached = cache.load().orElseThrow();
    assertThat(cached.export().version()).isEqualTo(1);
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
    assertThat(follower.lastError().orElseThrow()).contains("no export in");
    assertThat(follower.lastPoll()).isPresent();
    assertThat(version()).isEqualTo(SnapshotApplier.NONE);
  }

  @Test
  void aReSignedPointerAtTheServedVersionDownloadsNoBody() throws Exception {
    ETag first = publish(1, "/ip");
    startFollower(Optional.empty());
    await("version 1 is served", LIMIT, () -> version() == 1);
    Thread.sleep(5);

    publisher(signer).refresh(1).block(LIMIT);
    assertThat(bucket.head(LAYOUT.latestKey()).block(LIMIT).etag()).isNotEqualTo(first);
    awaitTicks(3);

    assertThat(counting.bodyDownloads).hasValue(1);
    assertThat(follower.lastError()).isEmpty();
  }

  @Test
  void anExportSignedByAKeyNotTrustedIsRefusedBeforeItsBodies() {
    verifier = SignatureVerifier.trusting(List.of(signer.publicKey()));
    SnapshotSigner intruder = new SnapshotSigner(SigningKeys.generate());
    publish(1, "/ip", intruder);

    startFollower(Optional.empty());

    await("the signature is refused", LIMIT, () -> applier.lastRejection().isPresent());
    assertThat(applier.lastRejection().orElseThrow().reason())
        .contains("key " + intruder.keyId() + ", which is not trusted");
    assertThat(counting.bodyDownloads).hasValue(0);
    assertThat(version()).isEqualTo(SnapshotApplier.NONE);

    publish(2, "/ip");
    await("a trusted export is served", LIMIT, () -> version() == 2);
  }
}
