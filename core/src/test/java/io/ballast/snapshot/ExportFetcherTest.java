package io.ballast.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import io.ballast.storage.ETag;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectNotFoundException;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.WriteCondition;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class ExportFetcherTest {

  private static final long NONE = ConfServerProtocol.NO_VERSION;

  @TempDir Path dir;
  SnapshotStorageFixture storage;
  Path downloads;

  @BeforeEach
  void setUp() throws Exception {
    storage = new SnapshotStorageFixture(dir);
    downloads = Files.createDirectories(dir.resolve("downloads"));
  }

  private SignedExport publish(long version, int routes) {
    PublishResult result =
        storage.publisher(2).publish(storage.export(version, "v" + version, routes)).block();
    return ((PublishResult.Published) result).signed();
  }

  @Test
  void missingBeforeAnythingIsPublished() {
    StepVerifier.create(storage.fetcher().fetchLatest(null, NONE, downloads))
        .expectNext(new FetchResult.Missing())
        .verifyComplete();
  }

  @Test
  void fetchesBothVerifiedPartsThenNotModifiedWithItsEtag() {
    SignedExport published = publish(1, 3);

    FetchResult.Fetched fetched =
        (FetchResult.Fetched) storage.fetcher().fetchLatest(null, NONE, downloads).block();

    VerifiedExport export = fetched.export();
    assertThat(export.manifest()).isEqualTo(published.manifest());
    assertThat(export.signed().keyId()).contains(storage.signer.keyId());
    assertThat(export.part(SnapshotKind.RESOURCES).body()).startsWith(downloads);
    assertThat(export.part(SnapshotKind.INSTANCE).body()).startsWith(downloads);
    ResourceSet set = SnapshotContent.readResources(export.part(SnapshotKind.RESOURCES).body());
    assertThat(set.of(ResourceType.ROUTES)).hasSize(3);
    assertThat(fetched.pointerEtag())
        .isEqualTo(storage.head(SnapshotStorageFixture.LAYOUT.latestKey()).etag());

    StepVerifier.create(storage.fetcher().fetchLatest(fetched.pointerEtag(), 1, downloads))
        .expectNext(new FetchResult.NotModified(fetched.pointerEtag()))
        .verifyComplete();

    publish(2, 4);
    FetchResult.Fetched newer =
        (FetchResult.Fetched)
            storage.fetcher().fetchLatest(fetched.pointerEtag(), 1, downloads).block();
    assertThat(newer.export().version()).isEqualTo(2);
  }

  @Test
  void aReSignedPointerAtTheVersionServedReadsNoBody() throws Exception {
    publish(1, 1);
    FetchResult.Fetched first =
        (FetchResult.Fetched) storage.fetcher().fetchLatest(null, NONE, downloads).block();
    Files.delete(first.export().part(SnapshotKind.RESOURCES).body());
    Files.delete(first.export().part(SnapshotKind.INSTANCE).body());
    Clock aMinuteLater = Clock.offset(SnapshotStorageFixture.CLOCK, Duration.ofMinutes(1));
    storage.publisher(storage.resources, 2, aMinuteLater).refresh(1).block();
    List<ObjectKey> bodiesRead = new ArrayList<>();
    ObjectStorage counting =
        new ForwardingStorage(storage.resources) {
          @Override
          public Mono<ReadResult> get(ObjectKey key, ReadCondition condition) {
            if (!key.equals(SnapshotStorageFixture.LAYOUT.latestKey())) {
              bodiesRead.add(key);
            }
            return super.get(key, condition);
          }
        };

    FetchResult result =
        storage.fetcher(counting).fetchLatest(first.pointerEtag(), 1, downloads).block();

    assertThat(result).isInstanceOf(FetchResult.NoNewer.class);
    FetchResult.NoNewer noNewer = (FetchResult.NoNewer) result;
    assertThat(noNewer.signed().version()).isEqualTo(1);
    assertThat(noNewer.pointerEtag()).isNotEqualTo(first.pointerEtag());
    assertThat(bodiesRead).isEmpty();
    try (Stream<Path> left = Files.list(downloads)) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void aForgedPointerIsRefusedBeforeAnyBodyIsRead() {
    SignedExport published = publish(1, 1);
    SnapshotSigner intruder = new SnapshotSigner(SigningKeys.generate());
    byte[] forged = intruder.sign(published.manifest()).json();
    storage
        .resources
        .put(
            SnapshotStorageFixture.LAYOUT.latestKey(),
            Flux.just(ByteBuffer.wrap(forged)),
            PutOptions.of(WriteCondition.NONE))
        .block();
    AtomicBoolean bodyRead = new AtomicBoolean();
    ObjectStorage watching =
        new ForwardingStorage(storage.resources) {
          @Override
          public Mono<ReadResult> get(ObjectKey key, ReadCondition condition) {
            bodyRead.compareAndSet(false, !key.equals(SnapshotStorageFixture.LAYOUT.latestKey()));
            return super.get(key, condition);
          }
        };

    StepVerifier.create(storage.fetcher(watching).fetchLatest(null, NONE, downloads))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(SnapshotIntegrityException.class)
                    .hasMessageContaining(SnapshotStorageFixture.LAYOUT.latestKey().value())
                    .hasMessageContaining("key " + intruder.keyId() + ", which is not trusted"))
        .verify();
    assertThat(bodyRead).isFalse();
  }

  @Test
  void corruptedBodyFailsIntegrityAndLeavesNoFile() throws Exception {
    SignedExport published = publish(1, 2);
    SnapshotManifest instance = published.manifest().part(SnapshotKind.INSTANCE);
    byte[] garbage = "not the body".getBytes(StandardCharsets.UTF_8);
    storage
        .config
        .put(
            ObjectKey.of(instance.bodyKey()),
            Flux.just(ByteBuffer.wrap(garbage)),
            PutOptions.of(WriteCondition.NONE))
        .block();

    StepVerifier.create(storage.fetcher().fetchLatest(null, NONE, downloads))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(SnapshotIntegrityException.class)
                    .hasMessageContaining(instance.bodyKey())
                    .hasMessageContaining("expected size " + instance.bodySize())
                    .hasMessageContaining(instance.bodySha256())
                    .hasMessageContaining("got size " + garbage.length))
        .verify();
    // The resources part, downloaded first and fine, is deleted too: both or neither.
    try (Stream<Path> left = Files.list(downloads)) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void pointerOfAnotherGroupIsRefused() {
    publish(1, 1);
    ExportFetcher otherGroup =
        new ExportFetcher(
            new RenamingStorage(storage.resources, "ballast/other/", "ballast/default/"),
            storage.config,
            new ExportLayout("ballast", "other"),
            SignatureVerifier.notRequired());

    StepVerifier.create(otherGroup.fetchLatest(null, NONE, downloads))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(SnapshotFormatException.class)
                    .hasMessageContaining("gateway group 'default'")
                    .hasMessageContaining("expected 'other'"))
        .verify();
  }

  @Test
  void bodyPrunedAfterThePointerWasReadIsRetriedFromThePointer() {
    publish(1, 1);
    AtomicBoolean raced = new AtomicBoolean();
    // Between our pointer read and body read, another CP publishes v2 and prunes v1.
    ObjectStorage racing =
        new ForwardingStorage(storage.resources) {
          @Override
          public Mono<ReadResult> get(ObjectKey key, ReadCondition condition) {
            if (SnapshotStorageFixture.LAYOUT
                    .part(SnapshotKind.RESOURCES)
                    .versionOf(key)
                    .equals(OptionalLong.of(1))
                && raced.compareAndSet(false, true)) {
              return storage
                  .publisher(1)
                  .publish(storage.export(2, "v2", 2))
                  .then(super.get(key, condition));
            }
            return super.get(key, condition);
          }
        };

    FetchResult result = storage.fetcher(racing).fetchLatest(null, NONE, downloads).block();

    assertThat(raced).isTrue();
    assertThat(((FetchResult.Fetched) result).export().version()).isEqualTo(2);
  }

  @Test
  void bodyMissingTwiceIsAnErrorNamingTheKey() {
    SignedExport published = publish(1, 1);
    String key = published.manifest().part(SnapshotKind.INSTANCE).bodyKey();
    storage.config.delete(ObjectKey.of(key)).block();

    StepVerifier.create(storage.fetcher().fetchLatest(null, NONE, downloads))
        .expectErrorSatisfies(
            e ->
                assertThat(e).isInstanceOf(ObjectNotFoundException.class).hasMessageContaining(key))
        .verify();
  }

  @Test
  void unknownEtagFetchesAgain() {
    publish(1, 1);

    StepVerifier.create(storage.fetcher().fetchLatest(ETag.of("\"stale\""), NONE, downloads))
        .assertNext(result -> assertThat(result).isInstanceOf(FetchResult.Fetched.class))
        .verifyComplete();
  }

  /**
   * Delegates to a bucket, reading keys that start with {@code from} at {@code to} instead: lets a
   * second layout see the first one's objects.
   */
  static class RenamingStorage extends ForwardingStorage {
    private final String from;
    private final String to;

    RenamingStorage(ObjectStorage delegate, String from, String to) {
      super(delegate);
      this.from = from;
      this.to = to;
    }

    private ObjectKey map(ObjectKey key) {
      return key.value().startsWith(from)
          ? ObjectKey.of(to + key.value().substring(from.length()))
          : key;
    }

    @Override
    public Mono<ReadResult> get(ObjectKey key, ReadCondition condition) {
      return super.get(map(key), condition);
    }
  }
}
