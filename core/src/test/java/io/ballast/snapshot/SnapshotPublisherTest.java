package io.ballast.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.PutOptions;
import io.ballast.storage.WriteCondition;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

class SnapshotPublisherTest {

  @TempDir Path dir;
  SnapshotStorageFixture storage;

  @BeforeEach
  void setUp() throws Exception {
    storage = new SnapshotStorageFixture(dir);
  }

  @Test
  void publishesAndPrunesBeyondRetention() {
    SnapshotPublisher publisher = storage.publisher("cp-1", 2);

    for (long version = 1; version <= 3; version++) {
      SnapshotStorageFixture.Body body = storage.body("v" + version, (int) version);
      long expected = version;
      StepVerifier.create(publisher.publish(version, body.file(), body.stats()))
          .assertNext(
              result -> {
                assertThat(result).isInstanceOf(PublishResult.Published.class);
                SnapshotManifest manifest = ((PublishResult.Published) result).manifest();
                assertThat(manifest.version()).isEqualTo(expected);
                assertThat(manifest.bodySha256()).isEqualTo(body.stats().sha256Hex());
                assertThat(manifest.counts()).containsEntry("routes", expected);
              })
          .verifyComplete();
    }

    assertThat(storage.storedVersions()).containsExactly(2L, 3L);
    SnapshotManifest pointer = storage.pointer();
    assertThat(pointer.version()).isEqualTo(3);
    assertThat(pointer.producer()).isEqualTo("cp-1");
    assertThat(pointer.createdAt()).isEqualTo(SnapshotStorageFixture.CLOCK.instant());
    ObjectMeta body = storage.head(SnapshotStorageFixture.LAYOUT.bodyKey(3));
    assertThat(body.metadata())
        .containsEntry(SnapshotPublisher.META_VERSION, "3")
        .containsEntry(SnapshotPublisher.META_SHA256, pointer.bodySha256());
  }

  @Test
  void lowerOrSameVersionIsSkippedAndLeavesThePointer() {
    SnapshotPublisher publisher = storage.publisher("cp-1", 5);
    SnapshotStorageFixture.Body five = storage.body("five", 1);
    publisher.publish(5, five.file(), five.stats()).block();
    ObjectMeta before = storage.head(SnapshotStorageFixture.LAYOUT.latestKey());

    SnapshotStorageFixture.Body other = storage.body("other", 2);
    StepVerifier.create(publisher.publish(4, other.file(), other.stats()))
        .expectNext(new PublishResult.Skipped(5))
        .verifyComplete();
    StepVerifier.create(publisher.publish(5, other.file(), other.stats()))
        .expectNext(new PublishResult.Skipped(5))
        .verifyComplete();

    assertThat(storage.head(SnapshotStorageFixture.LAYOUT.latestKey()).etag())
        .isEqualTo(before.etag());
    assertThat(storage.storedVersions()).containsExactly(5L);
  }

  @Test
  void retriedExportReusesItsOwnBodyButRefusesOtherContent() {
    SnapshotStorageFixture.Body body = storage.body("b", 3);
    // A previous attempt stored the body and died before moving the pointer.
    storeBody(7, body);
    SnapshotPublisher publisher = storage.publisher("cp-1", 5);

    StepVerifier.create(publisher.publish(7, body.file(), body.stats()))
        .assertNext(result -> assertThat(result).isInstanceOf(PublishResult.Published.class))
        .verifyComplete();

    SnapshotStorageFixture.Body other = storage.body("other", 1);
    storeBody(8, body);
    StepVerifier.create(publisher.publish(8, other.file(), other.stats()))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(SnapshotPublishException.class)
                    .hasMessageContaining(SnapshotStorageFixture.LAYOUT.bodyKey(8).value())
                    .hasMessageContaining("already exists with other content"))
        .verify();
    assertThat(storage.pointer().version()).isEqualTo(7);
  }

  @Test
  void bodyPrunedByANewerPublishBetweenPutAndHeadIsSkipped() {
    SnapshotPublisher other = storage.publisher("cp-a", 1);
    SnapshotStorageFixture.Body four = storage.body("four", 1);
    other.publish(4, four.file(), four.stats()).block();
    SnapshotStorageFixture.Body five = storage.body("five", 2);
    storeBody(5, five); // cp-a is mid-publish of 5: body stored, pointer not yet moved
    SnapshotStorageFixture.Body six = storage.body("six", 3);
    // cp-b finds body 5 present, and before it looks at it, cp-a publishes 6 and prunes 4 and 5.
    AtomicBoolean pruned = new AtomicBoolean();
    SnapshotPublisher racing =
        new SnapshotPublisher(
            new ForwardingStorage(storage.bucket) {
              @Override
              public Mono<ObjectMeta> head(ObjectKey key) {
                return pruned.compareAndSet(false, true)
                    ? other.publish(6, six.file(), six.stats()).then(super.head(key))
                    : super.head(key);
              }
            },
            SnapshotStorageFixture.LAYOUT,
            1,
            "cp-b",
            SnapshotStorageFixture.CLOCK);

    StepVerifier.create(racing.publish(5, five.file(), five.stats()))
        .expectNext(new PublishResult.Skipped(6))
        .verifyComplete();
    assertThat(storage.pointer().version()).isEqualTo(6);
    assertThat(storage.storedVersions()).containsExactly(6L);
  }

  @Test
  void bodyDeletedBehindThePublishersBackFailsNamingIt() {
    SnapshotStorageFixture.Body five = storage.body("five", 2);
    storeBody(5, five);
    ObjectKey key = SnapshotStorageFixture.LAYOUT.bodyKey(5);
    SnapshotPublisher publisher =
        new SnapshotPublisher(
            new ForwardingStorage(storage.bucket) {
              @Override
              public Mono<ObjectMeta> head(ObjectKey target) {
                return storage.bucket.delete(key).then(super.head(target));
              }
            },
            SnapshotStorageFixture.LAYOUT,
            1,
            "cp-b",
            SnapshotStorageFixture.CLOCK);

    StepVerifier.create(publisher.publish(5, five.file(), five.stats()))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(SnapshotPublishException.class)
                    .hasMessageContaining(key.value())
                    .hasMessageContaining("existed and then vanished"))
        .verify();
    assertThat(storage.head(SnapshotStorageFixture.LAYOUT.latestKey())).isNull();
  }

  @Test
  void pointerRewrittenWithoutMovingForwardGivesUpNamingIt() {
    SnapshotStorageFixture.Body four = storage.body("four", 1);
    storage.publisher("cp-a", 5).publish(4, four.file(), four.stats()).block();
    ObjectKey latest = SnapshotStorageFixture.LAYOUT.latestKey();
    AtomicInteger pointerWrites = new AtomicInteger();
    // Before each of cp-b's pointer writes, a writer that ignores conditions rewrites version 4.
    SnapshotPublisher publisher =
        new SnapshotPublisher(
            new ForwardingStorage(storage.bucket) {
              @Override
              public Mono<ObjectMeta> put(
                  ObjectKey key, Flux<ByteBuffer> body, PutOptions options) {
                return key.equals(latest)
                    ? Mono.defer(
                            () ->
                                rewritePointer(4, "rogue-" + pointerWrites.incrementAndGet(), four))
                        .then(super.put(key, body, options))
                    : super.put(key, body, options);
              }
            },
            SnapshotStorageFixture.LAYOUT,
            5,
            "cp-b",
            SnapshotStorageFixture.CLOCK);
    SnapshotStorageFixture.Body five = storage.body("five", 2);

    StepVerifier.create(publisher.publish(5, five.file(), five.stats()))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(SnapshotPublishException.class)
                    .hasMessageContaining("gave up moving " + latest.value())
                    .hasMessageContaining("to version 5 after 5 attempts")
                    .hasMessageContaining("now version 4"))
        .verify();
    assertThat(pointerWrites).hasValue(5);
    assertThat(storage.pointer().version()).isEqualTo(4);
  }

  private Mono<ObjectMeta> rewritePointer(
      long version, String producer, SnapshotStorageFixture.Body body) {
    byte[] json =
        SnapshotManifest.of(
                "default",
                SnapshotKind.RESOURCES,
                version,
                SnapshotStorageFixture.CLOCK.instant(),
                producer,
                SnapshotStorageFixture.LAYOUT.bodyKey(version).value(),
                body.stats())
            .toJson();
    return storage.bucket.put(
        SnapshotStorageFixture.LAYOUT.latestKey(),
        Flux.just(ByteBuffer.wrap(json)),
        PutOptions.of(WriteCondition.NONE));
  }

  private void storeBody(long version, SnapshotStorageFixture.Body body) {
    storage
        .bucket
        .put(
            SnapshotStorageFixture.LAYOUT.bodyKey(version),
            ByteStreams.read(body.file()),
            PutOptions.of(WriteCondition.IF_ABSENT)
                .withMetadata(Map.of(SnapshotPublisher.META_SHA256, body.stats().sha256Hex())))
        .block();
  }

  @Test
  void racingPublishersNeverMoveThePointerBackwards() {
    SnapshotPublisher a = storage.publisher("cp-a", 3);
    SnapshotPublisher b = storage.publisher("cp-b", 3);
    List<Long> versions = new ArrayList<>();
    for (long v = 1; v <= 30; v++) {
      versions.add(v);
    }
    Collections.shuffle(versions, new Random(42));
    List<Long> observed = Collections.synchronizedList(new ArrayList<>());
    AtomicBoolean racing = new AtomicBoolean(true);
    Thread observer =
        new Thread(
            () -> {
              while (racing.get()) {
                if (storage.head(SnapshotStorageFixture.LAYOUT.latestKey()) != null) {
                  observed.add(storage.pointer().version());
                }
              }
            });
    observer.start();

    List<PublishResult> results =
        Flux.fromIterable(versions)
            .flatMap(
                version -> {
                  SnapshotStorageFixture.Body body = storage.body("r" + version, 1);
                  SnapshotPublisher publisher = version % 2 == 0 ? a : b;
                  // both replicas also try the same version
                  return Flux.merge(
                      publisher
                          .publish(version, body.file(), body.stats())
                          .subscribeOn(Schedulers.parallel()),
                      (publisher == a ? b : a)
                          .publish(version, body.file(), body.stats())
                          .subscribeOn(Schedulers.parallel()));
                },
                4)
            .collectList()
            .block();
    racing.set(false);
    joinQuietly(observer);

    assertThat(results).hasSize(60);
    assertThat(storage.pointer().version()).isEqualTo(30);
    assertThat(observed).isSorted();
    // Of two replicas publishing the same version, at most one moved the pointer to it.
    Map<Long, Long> publishedPerVersion =
        results.stream()
            .filter(r -> r instanceof PublishResult.Published)
            .collect(
                Collectors.groupingBy(
                    r -> ((PublishResult.Published) r).manifest().version(),
                    Collectors.counting()));
    assertThat(publishedPerVersion.values()).allMatch(count -> count == 1);
  }

  private static void joinQuietly(Thread thread) {
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
