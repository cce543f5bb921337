package io.ballast.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.PutOptions;
import io.ballast.storage.WriteCondition;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

class ExportPublisherTest {

  @TempDir Path dir;
  SnapshotStorageFixture storage;

  @BeforeEach
  void setUp() throws Exception {
    storage = new SnapshotStorageFixture(dir);
  }

  @Test
  void publishesBothBodiesThenASignedPointerAndPrunesBeyondRetention() {
    ExportPublisher publisher = storage.publisher(2);

    for (long version = 1; version <= 3; version++) {
      VerifiedExport export = storage.export(version, "v" + version, (int) version);
      long expected = version;
      StepVerifier.create(publisher.publish(export))
          .assertNext(
              result -> {
                assertThat(result).isInstanceOf(PublishResult.Published.class);
                SignedExport signed = ((PublishResult.Published) result).signed();
                assertThat(signed.version()).isEqualTo(expected);
                assertThat(signed.manifest().parts()).isEqualTo(export.manifest().parts());
                assertThat(signed.manifest().routes()).isEqualTo(expected);
              })
          .verifyComplete();
    }

    assertThat(storage.storedVersions(SnapshotKind.RESOURCES)).containsExactly(2L, 3L);
    assertThat(storage.storedVersions(SnapshotKind.INSTANCE)).containsExactly(2L, 3L);
    SignedExport pointer = storage.pointer();
    assertThat(pointer.version()).isEqualTo(3);
    assertThat(pointer.keyId()).contains(storage.signer.keyId());
    assertThat(pointer.manifest().signedAt()).isEqualTo(SnapshotStorageFixture.CLOCK.instant());
    assertThat(pointer.manifest().expiresAt())
        .isEqualTo(
            SnapshotStorageFixture.CLOCK.instant().plus(SnapshotStorageFixture.EXPIRE_AFTER));
    ObjectMeta body =
        storage
            .config
            .head(ObjectKey.of(pointer.manifest().part(SnapshotKind.INSTANCE).bodyKey()))
            .block();
    assertThat(body.metadata())
        .containsEntry(ExportPublisher.META_VERSION, "3")
        .containsEntry(
            ExportPublisher.META_SHA256,
            pointer.manifest().part(SnapshotKind.INSTANCE).bodySha256());
  }

  @Test
  void lowerOrSameVersionIsSkippedAndLeavesThePointer() {
    ExportPublisher publisher = storage.publisher(5);
    publisher.publish(storage.export(5, "five", 1)).block();
    ObjectMeta before = storage.head(SnapshotStorageFixture.LAYOUT.latestKey());

    StepVerifier.create(publisher.publish(storage.export(4, "other", 2)))
        .expectNext(new PublishResult.Skipped(5))
        .verifyComplete();
    StepVerifier.create(publisher.publish(storage.export(5, "other", 2)))
        .expectNext(new PublishResult.Skipped(5))
        .verifyComplete();

    assertThat(storage.head(SnapshotStorageFixture.LAYOUT.latestKey()).etag())
        .isEqualTo(before.etag());
    assertThat(storage.storedVersions(SnapshotKind.RESOURCES)).containsExactly(5L);
  }

  @Test
  void aRetriedExportReusesItsOwnBodiesAndAnotherExportOfItsVersionKeepsItsOwn() {
    VerifiedExport seven = storage.export(7, "b", 3);
    // A previous attempt stored both bodies and died before moving the pointer.
    storeBodies(seven);
    ExportPublisher publisher = storage.publisher(5);

    StepVerifier.create(publisher.publish(seven))
        .assertNext(result -> assertThat(result).isInstanceOf(PublishResult.Published.class))
        .verifyComplete();

    // Another exporter (a store of another lineage, or a replica that built 8 differently)
    // stored its bodies of version 8 and never moved the pointer: its keys are not ours.
    VerifiedExport theirs = storage.export(8, "b", 3);
    storeBodies(theirs);
    VerifiedExport ours = storage.export(8, "other", 1);
    StepVerifier.create(publisher.publish(ours))
        .assertNext(result -> assertThat(result).isInstanceOf(PublishResult.Published.class))
        .verifyComplete();
    assertThat(storage.pointer().manifest().parts()).isEqualTo(ours.manifest().parts());
    assertThat(storage.storedVersions(SnapshotKind.RESOURCES)).containsExactly(7L, 8L, 8L);

    // A key that names our SHA-256 but holds something else was not written by an exporter.
    VerifiedExport nine = storage.export(9, "nine", 2);
    VerifiedSnapshot resources = nine.part(SnapshotKind.RESOURCES);
    storage
        .resources
        .put(
            ObjectKey.of(resources.manifest().bodyKey()),
            ByteStreams.read(storage.export(9, "tampered", 2).part(SnapshotKind.RESOURCES).body()),
            PutOptions.of(WriteCondition.IF_ABSENT)
                .withMetadata(Map.of(ExportPublisher.META_SHA256, "0".repeat(64))))
        .block();
    StepVerifier.create(publisher.publish(nine))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(SnapshotPublishException.class)
                    .hasMessageContaining(resources.manifest().bodyKey())
                    .hasMessageContaining("already exists with other content"))
        .verify();
    assertThat(storage.pointer().version()).isEqualTo(8);
  }

  @Test
  void bodyPrunedByANewerPublishBetweenPutAndHeadIsSkipped() {
    ExportPublisher other = storage.publisher(1);
    other.publish(storage.export(4, "four", 1)).block();
    VerifiedExport five = storage.export(5, "five", 2);
    storeBodies(five); // cp-a is mid-publish of 5: bodies stored, pointer not yet moved
    VerifiedExport six = storage.export(6, "six", 3);
    // cp-b finds body 5 present, and before it looks at it, cp-a publishes 6 and prunes 4 and 5.
    AtomicBoolean pruned = new AtomicBoolean();
    ExportPublisher racing =
        storage.publisher(
            new ForwardingStorage(storage.resources) {
              @Override
              public Mono<ObjectMeta> head(ObjectKey key) {
                return pruned.compareAndSet(false, true)
                    ? other.publish(six).then(super.head(key))
                    : super.head(key);
              }
            },
            1,
            SnapshotStorageFixture.CLOCK);

    StepVerifier.create(racing.publish(five))
        .expectNext(new PublishResult.Skipped(6))
        .verifyComplete();
    assertThat(storage.pointer().version()).isEqualTo(6);
    assertThat(storage.storedVersions(SnapshotKind.RESOURCES)).containsExactly(6L);
  }

  @Test
  void bodyDeletedBehindThePublishersBackFailsNamingIt() {
    VerifiedExport five = storage.export(5, "five", 2);
    storeBodies(five);
    ObjectKey key = ObjectKey.of(five.part(SnapshotKind.RESOURCES).manifest().bodyKey());
    ExportPublisher publisher =
        storage.publisher(
            new ForwardingStorage(storage.resources) {
              @Override
              public Mono<ObjectMeta> head(ObjectKey target) {
                return storage.resources.delete(key).then(super.head(target));
              }
            },
            1,
            SnapshotStorageFixture.CLOCK);

    StepVerifier.create(publisher.publish(five))
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
    VerifiedExport four = storage.export(4, "four", 1);
    storage.publisher(5).publish(four).block();
    ObjectKey latest = SnapshotStorageFixture.LAYOUT.latestKey();
    AtomicInteger pointerWrites = new AtomicInteger();
    // Before each of cp-b's pointer writes, a writer that ignores conditions rewrites version 4.
    ExportPublisher publisher =
        storage.publisher(
            new ForwardingStorage(storage.resources) {
              @Override
              public Mono<ObjectMeta> put(
                  ObjectKey key, Flux<ByteBuffer> body, PutOptions options) {
                return key.equals(latest)
                    ? Mono.defer(() -> rewritePointer(four, pointerWrites.incrementAndGet()))
                        .then(super.put(key, body, options))
                    : super.put(key, body, options);
              }
            },
            5,
            SnapshotStorageFixture.CLOCK);

    StepVerifier.create(publisher.publish(storage.export(5, "five", 2)))
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

  @Test
  void refreshReSignsThePointerAtTheSameVersion() {
    storage.publisher(5).publish(storage.export(5, "five", 1)).block();
    ObjectMeta before = storage.head(SnapshotStorageFixture.LAYOUT.latestKey());
    Clock later =
        Clock.fixed(
            SnapshotStorageFixture.CLOCK.instant().plus(Duration.ofMinutes(1)), ZoneOffset.UTC);
    ExportPublisher publisher = storage.publisher(storage.resources, 5, later);

    StepVerifier.create(publisher.refresh(5))
        .assertNext(result -> assertThat(result).isInstanceOf(PublishResult.Published.class))
        .verifyComplete();

    SignedExport pointer = storage.pointer();
    assertThat(pointer.version()).isEqualTo(5);
    assertThat(pointer.manifest().signedAt()).isEqualTo(later.instant());
    assertThat(pointer.manifest().expiresAt())
        .isEqualTo(later.instant().plus(SnapshotStorageFixture.EXPIRE_AFTER));
    assertThat(pointer.manifest().createdAt()).isEqualTo(SnapshotStorageFixture.CLOCK.instant());
    assertThat(storage.head(SnapshotStorageFixture.LAYOUT.latestKey()).etag())
        .isNotEqualTo(before.etag());
    // Another version is not this exporter's to re-sign: newer is another CP's, older needs a
    // publish.
    StepVerifier.create(publisher.refresh(4))
        .expectNext(new PublishResult.Skipped(5))
        .verifyComplete();
    StepVerifier.create(publisher.refresh(6))
        .expectNext(new PublishResult.Skipped(5))
        .verifyComplete();
  }

  @Test
  void refreshRacingANewerPublishLeavesTheNewerPointer() {
    ExportPublisher publisher = storage.publisher(5);
    publisher.publish(storage.export(5, "five", 1)).block();
    VerifiedExport six = storage.export(6, "six", 1);
    ExportPublisher refreshing = publisherRacedAtItsPointerWrite(() -> publisher.publish(six));

    StepVerifier.create(refreshing.refresh(5))
        .expectNext(new PublishResult.Skipped(6))
        .verifyComplete();
    assertThat(storage.pointer().version()).isEqualTo(6);
  }

  private static final String OTHER_LINEAGE = "c3e8a1d4-5b6f-4a70-9e21-7d4c2b8f0a63";

  @Test
  void aPointerOfAnotherLineageIsReplacedOnlyWhenThatLineageWasGivenUp() {
    ExportPublisher publisher = storage.publisher(5);
    publisher.publish(storage.export(5, "five", 1)).block();

    // Another store's exports, above and below: neither replaces it, neither stores a body.
    StepVerifier.create(publisher.publish(storage.export(6, "other", 1, OTHER_LINEAGE)))
        .expectNext(
            new PublishResult.OtherLineage(5, SnapshotStorageFixture.LINEAGE, OTHER_LINEAGE))
        .verifyComplete();
    StepVerifier.create(publisher.publish(storage.export(4, "other", 1, OTHER_LINEAGE)))
        .expectNext(
            new PublishResult.OtherLineage(5, SnapshotStorageFixture.LINEAGE, OTHER_LINEAGE))
        .verifyComplete();
    assertThat(storage.pointer().version()).isEqualTo(5);
    assertThat(storage.storedVersions(SnapshotKind.RESOURCES)).containsExactly(5L);

    // --lineage=store gave the old lineage up.
    VerifiedExport kept = storage.export(6, "kept", 1, OTHER_LINEAGE);
    StepVerifier.create(publisher.publish(kept, Optional.of(SnapshotStorageFixture.LINEAGE)))
        .expectNextMatches(r -> r instanceof PublishResult.Published)
        .verifyComplete();
    assertThat(storage.pointer().manifest().lineage()).isEqualTo(OTHER_LINEAGE);
  }

  @Test
  void anotherLineageTakingThePointerMidPublishEndsItAsOtherLineage() {
    ExportPublisher publisher = storage.publisher(5);
    publisher.publish(storage.export(5, "five", 1)).block();
    // A CP restarted with --lineage=store takes the pointer while this one is publishing 6.
    VerifiedExport theirs = storage.export(7, "theirs", 1, OTHER_LINEAGE);
    ExportPublisher keepingStore = storage.publisher(5);
    ExportPublisher racing =
        publisherRacedAtItsPointerWrite(
            () -> keepingStore.publish(theirs, Optional.of(SnapshotStorageFixture.LINEAGE)));

    StepVerifier.create(racing.publish(storage.export(6, "six", 1)))
        .expectNext(
            new PublishResult.OtherLineage(7, OTHER_LINEAGE, SnapshotStorageFixture.LINEAGE))
        .verifyComplete();
    assertThat(storage.pointer().version()).isEqualTo(7);
    assertThat(storage.pointer().manifest().lineage()).isEqualTo(OTHER_LINEAGE);
  }

  @Test
  void twoEmptyStoresOfDifferentLineagesStartingAtOnceEndWithOneLineageAndNoStuckPublish() {
    // Both find no pointer and store their version-1 bodies; the other takes the pointer first.
    VerifiedExport theirs = storage.export(1, "theirs", 1, OTHER_LINEAGE);
    ExportPublisher otherStore = storage.publisher(5);
    ExportPublisher racing = publisherRacedAtItsPointerWrite(() -> otherStore.publish(theirs));

    StepVerifier.create(racing.publish(storage.export(1, "ours", 1)))
        .expectNext(
            new PublishResult.OtherLineage(1, OTHER_LINEAGE, SnapshotStorageFixture.LINEAGE))
        .verifyComplete();
    assertThat(storage.pointer().manifest().lineage()).isEqualTo(OTHER_LINEAGE);
    assertThat(storage.pointer().manifest().parts()).isEqualTo(theirs.manifest().parts());
    // Both stores' bodies of version 1 were stored, each under its own key.
    assertThat(storage.storedVersions(SnapshotKind.RESOURCES)).containsExactly(1L, 1L);
  }

  @Test
  void pruningNeverRemovesTheBodyThePointerNames() {
    // Another replica is mid-publish of 10 and 11: their bodies are stored, the pointer is not.
    storeBodies(storage.export(10, "ten", 1));
    storeBodies(storage.export(11, "eleven", 1));

    storage.publisher(1).publish(storage.export(3, "three", 1)).block();

    assertThat(storage.pointer().version()).isEqualTo(3);
    assertThat(storage.storedVersions(SnapshotKind.RESOURCES)).containsExactly(3L, 10L, 11L);
    assertThat(storage.storedVersions(SnapshotKind.INSTANCE)).containsExactly(3L, 10L, 11L);
  }

  /** Rewrites the pointer with {@code export} signed {@code n} seconds later: other bytes. */
  private Mono<ObjectMeta> rewritePointer(VerifiedExport export, int n) {
    ExportManifest manifest = export.manifest();
    byte[] json =
        storage
            .signer
            .sign(manifest.resigned(manifest.signedAt().plusSeconds(n), manifest.expiresAt()))
            .json();
    return storage.resources.put(
        SnapshotStorageFixture.LAYOUT.latestKey(),
        Flux.just(ByteBuffer.wrap(json)),
        PutOptions.of(WriteCondition.NONE));
  }

  /**
   * A publisher (retention 5) whose first write of the pointer lets {@code race} run first: another
   * exporter that gets in between this one's read of the pointer and its write.
   */
  private ExportPublisher publisherRacedAtItsPointerWrite(Supplier<Mono<?>> race) {
    AtomicBoolean raced = new AtomicBoolean();
    ObjectKey latest = SnapshotStorageFixture.LAYOUT.latestKey();
    return storage.publisher(
        new ForwardingStorage(storage.resources) {
          @Override
          public Mono<ObjectMeta> put(ObjectKey key, Flux<ByteBuffer> body, PutOptions options) {
            return key.equals(latest) && raced.compareAndSet(false, true)
                ? race.get().then(super.put(key, body, options))
                : super.put(key, body, options);
          }
        },
        5,
        SnapshotStorageFixture.CLOCK);
  }

  private void storeBodies(VerifiedExport export) {
    for (SnapshotKind kind : SnapshotKind.values()) {
      VerifiedSnapshot part = export.part(kind);
      storage
          .bucket(kind)
          .put(
              ObjectKey.of(part.manifest().bodyKey()),
              ByteStreams.read(part.body()),
              PutOptions.of(WriteCondition.IF_ABSENT)
                  .withMetadata(Map.of(ExportPublisher.META_SHA256, part.manifest().bodySha256())))
          .block();
    }
  }

  @Test
  void racingPublishersNeverMoveThePointerBackwards() {
    ExportPublisher a = storage.publisher(3);
    ExportPublisher b = storage.publisher(3);
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
                  VerifiedExport export = storage.export(version, "r", 1);
                  ExportPublisher publisher = version % 2 == 0 ? a : b;
                  // both replicas also try the same version
                  return Flux.merge(
                      publisher.publish(export).subscribeOn(Schedulers.parallel()),
                      (publisher == a ? b : a).publish(export).subscribeOn(Schedulers.parallel()));
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
                    r -> ((PublishResult.Published) r).signed().version(), Collectors.counting()));
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
