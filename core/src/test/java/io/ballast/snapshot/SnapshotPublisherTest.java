package io.ballast.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.storage.ObjectMeta;
import io.ballast.storage.PutOptions;
import io.ballast.storage.WriteCondition;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
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
    storage
        .bucket
        .put(
            SnapshotStorageFixture.LAYOUT.bodyKey(7),
            ByteStreams.read(body.file()),
            PutOptions.of(WriteCondition.IF_ABSENT)
                .withMetadata(Map.of(SnapshotPublisher.META_SHA256, body.stats().sha256Hex())))
        .block();
    SnapshotPublisher publisher = storage.publisher("cp-1", 5);

    StepVerifier.create(publisher.publish(7, body.file(), body.stats()))
        .assertNext(result -> assertThat(result).isInstanceOf(PublishResult.Published.class))
        .verifyComplete();

    SnapshotStorageFixture.Body other = storage.body("other", 1);
    storage
        .bucket
        .put(
            SnapshotStorageFixture.LAYOUT.bodyKey(8),
            ByteStreams.read(body.file()),
            PutOptions.of(WriteCondition.IF_ABSENT)
                .withMetadata(Map.of(SnapshotPublisher.META_SHA256, body.stats().sha256Hex())))
        .block();
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
