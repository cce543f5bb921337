package io.ballast.dataplane;

import static io.ballast.dataplane.Snapshots.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.snapshot.ExportFetcher;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.ExportPublisher;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SigningKeys;
import io.ballast.snapshot.SnapshotSigner;
import io.ballast.storage.AccessDeniedException;
import io.ballast.storage.InvalidStorageConfigException;
import io.ballast.storage.MissingBucketException;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.StorageUnavailableException;
import io.ballast.storage.filesystem.FilesystemBackend;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The storage rows of the fault matrix against one follower: a bucket in a folder behind a storage
 * that fails as the test says (refused, 503, hung, 403, missing bucket), and a bucket whose pointer
 * or body the test damages. Polls every 100 ms with a 300 ms deadline.
 */
class StorageFollowerFaultTest {

  private static final Duration LIMIT = Duration.ofSeconds(5);
  private static final Duration INTERVAL = Duration.ofMillis(100);
  private static final Duration DEADLINE = Duration.ofMillis(300);
  private static final ExportLayout LAYOUT = new ExportLayout("", Snapshots.GROUP);
  private static final String POINTER = "filesystem bucket 'resources' key 'default/latest.json'";
  private static final SnapshotSigner SIGNER = new SnapshotSigner(SigningKeys.generate());

  /** A storage that fails as {@link #fault} says, or passes each read to the real bucket. */
  private static final class FaultyStorage implements ObjectStorage {
    final ObjectStorage delegate;
    final AtomicReference<Supplier<Mono<ReadResult>>> fault = new AtomicReference<>();
    final AtomicInteger gets = new AtomicInteger();

    FaultyStorage(ObjectStorage delegate) {
      this.delegate = delegate;
    }

    @Override
    public String describe() {
      return "faulty " + delegate.describe();
    }

    @Override
    public Mono<ObjectMeta> put(ObjectKey key, Flux<ByteBuffer> body, PutOptions options) {
      return delegate.put(key, body, options);
    }

    @Override
    public Mono<ReadResult> get(ObjectKey key, ReadCondition condition) {
      gets.incrementAndGet();
      Supplier<Mono<ReadResult>> now = fault.get();
      return now == null ? delegate.get(key, condition) : now.get();
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

    @Override
    public Mono<Void> checkExists() {
      return delegate.checkExists();
    }
  }

  @TempDir Path dir;
  private ObjectStorage bucket;
  private FaultyStorage storage;
  private SnapshotApplier applier;
  private DataPlane dataPlane;
  private StorageFollower follower;

  @BeforeEach
  void create() throws IOException {
    // The filesystem backend never creates a bucket folder.
    Files.createDirectories(dir.resolve("storage").resolve("resources"));
    bucket = new FilesystemBackend(dir.resolve("storage")).bucket("resources");
    storage = new FaultyStorage(bucket);
    LocalCache cache = new LocalCache(dir.resolve("cache"));
    applier = new SnapshotApplier(cache, Clock.systemUTC());
    // Not started: the test starts its one follower itself.
    dataPlane =
        new DataPlane(
            new Deployment.StorageOnly(new Deployment.Storage(null, INTERVAL)),
            applier,
            cache,
            new Followers(dir.resolve("downloads"), Clock.systemUTC()),
            Clock.systemUTC());
    follower =
        new StorageFollower(
            new ExportFetcher(
                storage, storage, LAYOUT, SignatureVerifier.trusting(List.of(SIGNER.publicKey()))),
            dataPlane,
            INTERVAL,
            DEADLINE,
            () -> true,
            dir.resolve("downloads"),
            Optional.empty());
  }

  @AfterEach
  void stop() {
    follower.close();
    synchronized (applier) {
    }
  }

  private void fail(Supplier<Mono<ReadResult>> fault) {
    storage.fault.set(fault);
  }

  private void heal() {
    storage.fault.set(null);
  }

  private void publish(long version) {
    publish(version, SIGNER, Clock.systemUTC());
  }

  /** Publishes export {@code version} signed by {@code signer} at {@code clock}'s now. */
  private void publish(long version, SnapshotSigner signer, Clock clock) {
    publisher(signer, clock)
        .publish(Snapshots.resources(dir, version, Snapshots.routeTo("/v" + version)))
        .block(LIMIT);
  }

  private ExportPublisher publisher(SnapshotSigner signer, Clock clock) {
    return new ExportPublisher(bucket, bucket, LAYOUT, 5, signer, Duration.ofMinutes(15), clock);
  }

  /** The file in the bucket's folder whose name ends with {@code suffix}. */
  /** The stored resources body of {@code version}. */
  private Path storedBody(long version) throws IOException {
    return stored(name -> name.startsWith(String.format("%020d-", version)));
  }

  private Path stored(String suffix) throws IOException {
    return stored(name -> name.endsWith(suffix));
  }

  private Path stored(Predicate<String> name) throws IOException {
    try (Stream<Path> files = Files.walk(dir.resolve("storage"))) {
      return files
          .filter(f -> name.test(f.getFileName().toString()))
          .filter(f -> !f.toString().contains("/instance/"))
          .findFirst()
          .orElseThrow();
    }
  }

  private long version() {
    return applier.version();
  }

  private Optional<String> detail(ReasonCode code) {
    @SuppressWarnings("unchecked")
    Map<String, Object> section = (Map<String, Object>) dataPlane.status().get("data_plane");
    @SuppressWarnings("unchecked")
    Map<String, Object> health = (Map<String, Object>) section.get("health");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> reasons = (List<Map<String, Object>>) health.get("reasons");
    return reasons.stream()
        .filter(r -> r.get("code").equals(code.id()))
        .map(r -> (String) r.get("detail"))
        .findFirst();
  }

  private static Mono<ReadResult> refused() {
    return Mono.error(
        new StorageUnavailableException(
            POINTER + ": S3 is unreachable or did not answer in time: Connection refused",
            new ConnectException("Connection refused")));
  }

  @Test
  void refusedIsReportedAtTheFirstPollAndRetriedWithGrowingBackoffThenRecovers() {
    publish(1);
    follower.start();
    await("version 1 is served", LIMIT, () -> version() == 1);
    fail(StorageFollowerFaultTest::refused);
    storage.gets.set(0);
    publish(2);

    await("storage_unreachable", LIMIT, () -> dataPlane.reports(ReasonCode.STORAGE_UNREACHABLE));
    assertThat(storage.gets).hasValue(1);
    assertThat(detail(ReasonCode.STORAGE_UNREACHABLE).orElseThrow()).contains("Connection refused");

    // Fixed 100 ms polling would ask about 15 times in 1.5 s; 100, 200, 400, 800 ms of backoff
    // (±20 %) asks 4 or 5 times.
    sleep(Duration.ofMillis(1500));
    assertThat(storage.gets.get()).isBetween(3, 6);
    assertThat(follower.status()).containsEntry("state", "storage_unreachable");

    heal();
    await("version 2 is served", LIMIT, () -> version() == 2);
    assertThat(dataPlane.reports(ReasonCode.STORAGE_UNREACHABLE)).isFalse();
    assertThat(follower.status()).containsEntry("state", "ok");
  }

  @Test
  void aDataPlaneServingNothingKeepsAskingARefusingStorageEveryPollAndServesOnceItAnswers() {
    publish(1);
    fail(StorageFollowerFaultTest::refused);
    follower.start();

    await("storage_unreachable", LIMIT, () -> dataPlane.reports(ReasonCode.STORAGE_UNREACHABLE));
    // Nothing served: no backoff. At 30–50 ms between polls 1.5 s asks about 35 times; backoff
    // (100, 200, 400, 800 ms) would ask 4 or 5 times.
    sleep(Duration.ofMillis(1500));
    assertThat(storage.gets.get()).isGreaterThan(10);
    assertThat(follower.status()).containsEntry("state", "storage_unreachable");

    heal();
    await("version 1 is served", LIMIT, () -> version() == 1);
    assertThat(dataPlane.reports(ReasonCode.STORAGE_UNREACHABLE)).isFalse();
  }

  @Test
  void aServerErrorIsRetriedAfterTwoSecondsNotAtEveryPoll() {
    publish(1);
    fail(
        () ->
            Mono.error(
                new StorageUnavailableException(
                    POINTER + ": HTTP 503 SlowDown: Please reduce your request rate")));
    follower.start();

    await("storage_unreachable", LIMIT, () -> dataPlane.reports(ReasonCode.STORAGE_UNREACHABLE));
    sleep(Duration.ofMillis(1000));
    // The first retry waits 2 s ± 20 %.
    assertThat(storage.gets).hasValue(1);

    heal();
    await("version 1 is served", LIMIT, () -> version() == 1);
    assertThat(dataPlane.reports(ReasonCode.STORAGE_UNREACHABLE)).isFalse();
  }

  @Test
  void aHungStorageMeetsTheDeadlineAndPollingGoesOn() {
    publish(1);
    fail(Mono::never);
    follower.start();

    await("storage_unreachable", LIMIT, () -> dataPlane.reports(ReasonCode.STORAGE_UNREACHABLE));
    assertThat(detail(ReasonCode.STORAGE_UNREACHABLE).orElseThrow())
        .endsWith("did not answer within 300 ms");
    await("two more polls are tried", LIMIT, () -> storage.gets.get() >= 3);

    heal();
    await("version 1 is served", LIMIT, () -> version() == 1);
    assertThat(dataPlane.reports(ReasonCode.STORAGE_UNREACHABLE)).isFalse();
  }

  @Test
  void refusedCredentialsAreAccessDeniedNamingBucketAndKeyAndRetriedSlowly() {
    fail(
        () ->
            Mono.error(
                new AccessDeniedException(
                    POINTER
                        + ": HTTP 403 AccessDenied: check access_key, secret_key and the bucket"
                        + " policy")));
    follower.start();

    await("access_denied", LIMIT, () -> dataPlane.reports(ReasonCode.ACCESS_DENIED));
    assertThat(detail(ReasonCode.ACCESS_DENIED).orElseThrow())
        .contains("bucket 'resources'", "key 'default/latest.json'", "403");
    // Retried four intervals on, then eight: not at every poll.
    sleep(Duration.ofMillis(1000));
    assertThat(storage.gets.get()).isBetween(2, 3);
  }

  @Test
  void aMissingBucketIsStorageMissingBucket() {
    fail(
        () ->
            Mono.error(
                new MissingBucketException(
                    "resources", POINTER + ": bucket 'resources' does not exist")));
    follower.start();

    await(
        "storage_missing_bucket",
        LIMIT,
        () -> dataPlane.reports(ReasonCode.STORAGE_MISSING_BUCKET));
    assertThat(detail(ReasonCode.STORAGE_MISSING_BUCKET).orElseThrow())
        .contains("bucket 'resources' does not exist");
  }

  @Test
  void anotherConfigurationRefusalIsStorageRejectedNotAMissingBucket() {
    fail(
        () ->
            Mono.error(
                new InvalidStorageConfigException(
                    POINTER + ": HTTP 301: the bucket is in another region")));
    follower.start();

    await("storage_rejected", LIMIT, () -> dataPlane.reports(ReasonCode.STORAGE_REJECTED));
    assertThat(detail(ReasonCode.STORAGE_REJECTED).orElseThrow()).contains("another region");
    assertThat(dataPlane.reports(ReasonCode.STORAGE_MISSING_BUCKET)).isFalse();
  }

  @Test
  void aPointerNamingAMissingBodyIsBodyMissingAndRecoversWhenTheBodyAppears() throws IOException {
    publish(1);
    Path body = storedBody(1);
    Path aside = dir.resolve("aside.ndjson.gz");
    Files.move(body, aside);
    follower.start();

    await("body_missing", LIMIT, () -> dataPlane.reports(ReasonCode.BODY_MISSING));
    assertThat(detail(ReasonCode.BODY_MISSING).orElseThrow()).contains("does not exist");
    assertThat(version()).isEqualTo(SnapshotApplier.NONE);

    Files.move(aside, body);

    await("version 1 is served", LIMIT, () -> version() == 1);
    await("body_missing ends", LIMIT, () -> !dataPlane.reports(ReasonCode.BODY_MISSING));
  }

  @Test
  void aPointerRolledBackIsRefusedAndSaidSo() throws IOException {
    publish(1);
    byte[] pointerOfOne = Files.readAllBytes(stored("latest.json"));
    publish(2);
    follower.start();
    await("version 2 is served", LIMIT, () -> version() == 2);

    Files.write(stored("latest.json"), pointerOfOne);

    await("rollback_refused", LIMIT, () -> dataPlane.reports(ReasonCode.ROLLBACK_REFUSED));
    assertThat(detail(ReasonCode.ROLLBACK_REFUSED).orElseThrow())
        .endsWith("its pointer names export 1, older than the served 2; refused, serving 2");
    assertThat(version()).isEqualTo(2);

    publish(3);

    await("version 3 is served", LIMIT, () -> version() == 3);
    await("rollback_refused ends", LIMIT, () -> !dataPlane.reports(ReasonCode.ROLLBACK_REFUSED));
  }

  @Test
  void aCorruptBodyIsRefusedAsChecksumAndTheNextGoodOneServed() throws IOException {
    publish(1);
    Path body = storedBody(1);
    byte[] bytes = Files.readAllBytes(body);
    // Past the object file's header line: a bit of the body itself.
    bytes[bytes.length - 10] ^= 0x01;
    Files.write(body, bytes);
    follower.start();

    await("checksum", LIMIT, () -> dataPlane.reports(ReasonCode.CHECKSUM));
    assertThat(detail(ReasonCode.CHECKSUM).orElseThrow()).contains("does not match", "sha256");
    assertThat(version()).isEqualTo(SnapshotApplier.NONE);

    publish(2);

    await("version 2 is served", LIMIT, () -> version() == 2);
    await("checksum ends", LIMIT, () -> !dataPlane.reports(ReasonCode.CHECKSUM));
  }

  @Test
  void anExportSignedByAnotherKeyIsNeverApplied() {
    publish(1);
    follower.start();
    await("version 1 is served", LIMIT, () -> version() == 1);

    // A bucket re-created by someone else, with an export of their own.
    publish(2, new SnapshotSigner(SigningKeys.generate()), Clock.systemUTC());

    await("signature", LIMIT, () -> dataPlane.reports(ReasonCode.SIGNATURE));
    assertThat(detail(ReasonCode.SIGNATURE).orElseThrow()).contains("not trusted");
    sleep(Duration.ofMillis(300));
    assertThat(version()).isEqualTo(1);

    publish(3);

    await("version 3 is served", LIMIT, () -> version() == 3);
    await("signature ends", LIMIT, () -> !dataPlane.reports(ReasonCode.SIGNATURE));
  }

  @Test
  void aFrozenPointerIsStaleOnceExpiredAndServingGoesOnUntilItIsReSigned() {
    // Signed an hour ago for 15 minutes: the CP stopped re-signing it 45 minutes ago.
    publish(1, SIGNER, Clock.offset(Clock.systemUTC(), Duration.ofHours(-1)));
    follower.start();

    // Stale is judged when the pointer is read, before its export is applied: wait for both.
    await("version 1 is served", LIMIT, () -> version() == 1);
    await("stale", LIMIT, () -> dataPlane.reports(ReasonCode.STALE));
    assertThat(dataPlane.healthState()).isEqualTo("degraded");
    assertThat(detail(ReasonCode.STALE).orElseThrow()).contains("version 1", "expired at");

    // The CP's cron tick re-signs the same export: no body is read, the pointer is fresh again.
    publisher(SIGNER, Clock.systemUTC()).refresh(1).block(LIMIT);

    await("stale ends", LIMIT, () -> !dataPlane.reports(ReasonCode.STALE));
    assertThat(dataPlane.healthState()).isEqualTo("ok");
  }

  @Test
  void aClockTenMinutesOffRaisesNothingTwoHoursOffIsClockSkewAndServingGoesOn() {
    publish(1, SIGNER, Clock.offset(Clock.systemUTC(), Duration.ofMinutes(10)));
    follower.start();
    await("version 1 is served", LIMIT, () -> version() == 1);
    sleep(Duration.ofMillis(300));
    assertThat(dataPlane.healthState()).isEqualTo("ok");

    publish(2, SIGNER, Clock.offset(Clock.systemUTC(), Duration.ofMinutes(-10)));
    await("version 2 is served", LIMIT, () -> version() == 2);
    sleep(Duration.ofMillis(300));
    assertThat(dataPlane.healthState()).isEqualTo("ok");

    // A CP whose clock is two hours ahead: this node's clock seems two hours behind.
    publish(3, SIGNER, Clock.offset(Clock.systemUTC(), Duration.ofHours(2)));

    await("clock_skew", LIMIT, () -> dataPlane.reports(ReasonCode.CLOCK_SKEW));
    await("version 3 is served", LIMIT, () -> version() == 3);
    assertThat(detail(ReasonCode.CLOCK_SKEW).orElseThrow()).contains("export 3", "ahead of");
    assertThat(dataPlane.reports(ReasonCode.STALE)).isFalse();
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
