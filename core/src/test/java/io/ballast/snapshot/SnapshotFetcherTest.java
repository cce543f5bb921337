package io.ballast.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import io.ballast.storage.ETag;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class SnapshotFetcherTest {

  @TempDir Path dir;
  SnapshotStorageFixture storage;
  Path downloads;

  @BeforeEach
  void setUp() throws Exception {
    storage = new SnapshotStorageFixture(dir);
    downloads = Files.createDirectories(dir.resolve("downloads"));
  }

  private SnapshotManifest publish(long version, int routes) {
    SnapshotStorageFixture.Body body = storage.body("v" + version, routes);
    PublishResult result =
        storage.publisher("cp-1", 2).publish(version, body.file(), body.stats()).block();
    return ((PublishResult.Published) result).manifest();
  }

  @Test
  void missingBeforeAnythingIsPublished() {
    StepVerifier.create(storage.fetcher().fetchLatest(null, downloads))
        .expectNext(new FetchResult.Missing())
        .verifyComplete();
  }

  @Test
  void fetchesVerifiedBodyThenNotModifiedWithItsEtag() {
    SnapshotManifest published = publish(1, 3);

    FetchResult.Fetched fetched =
        (FetchResult.Fetched) storage.fetcher().fetchLatest(null, downloads).block();

    assertThat(fetched.manifest()).isEqualTo(published);
    assertThat(fetched.bodyFile()).startsWith(downloads);
    ResourceSet set = SnapshotContent.readResources(fetched.bodyFile());
    assertThat(set.of(ResourceType.ROUTES)).hasSize(3);
    assertThat(fetched.pointerEtag())
        .isEqualTo(storage.head(SnapshotStorageFixture.LAYOUT.latestKey()).etag());

    StepVerifier.create(storage.fetcher().fetchLatest(fetched.pointerEtag(), downloads))
        .expectNext(new FetchResult.NotModified(fetched.pointerEtag()))
        .verifyComplete();

    publish(2, 4);
    FetchResult.Fetched newer =
        (FetchResult.Fetched)
            storage.fetcher().fetchLatest(fetched.pointerEtag(), downloads).block();
    assertThat(newer.manifest().version()).isEqualTo(2);
  }

  @Test
  void corruptedBodyFailsIntegrityAndLeavesNoFile() throws Exception {
    SnapshotManifest published = publish(1, 2);
    byte[] garbage = "not the body".getBytes(StandardCharsets.UTF_8);
    storage
        .bucket
        .put(
            ObjectKey.of(published.bodyKey()),
            Flux.just(ByteBuffer.wrap(garbage)),
            PutOptions.of(WriteCondition.NONE))
        .block();

    StepVerifier.create(storage.fetcher().fetchLatest(null, downloads))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(SnapshotIntegrityException.class)
                    .hasMessageContaining(published.bodyKey())
                    .hasMessageContaining("expected size " + published.bodySize())
                    .hasMessageContaining(published.bodySha256())
                    .hasMessageContaining("got size " + garbage.length))
        .verify();
    try (Stream<Path> left = Files.list(downloads)) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void pointerOfAnotherGroupIsRefused() {
    publish(1, 1);
    SnapshotFetcher otherGroup =
        new SnapshotFetcher(
            new RenamingStorage(storage.bucket, "ballast/other/", "ballast/default/"),
            new SnapshotLayout("ballast", "other", SnapshotKind.RESOURCES));

    StepVerifier.create(otherGroup.fetchLatest(null, downloads))
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
        new ForwardingStorage(storage.bucket) {
          @Override
          public Mono<ReadResult> get(ObjectKey key, ReadCondition condition) {
            if (key.equals(SnapshotStorageFixture.LAYOUT.bodyKey(1))
                && raced.compareAndSet(false, true)) {
              SnapshotStorageFixture.Body body = storage.body("v2", 2);
              return new SnapshotPublisher(
                      storage.bucket,
                      SnapshotStorageFixture.LAYOUT,
                      1,
                      "cp-2",
                      SnapshotStorageFixture.CLOCK)
                  .publish(2, body.file(), body.stats())
                  .then(super.get(key, condition));
            }
            return super.get(key, condition);
          }
        };

    FetchResult result =
        new SnapshotFetcher(racing, SnapshotStorageFixture.LAYOUT)
            .fetchLatest(null, downloads)
            .block();

    assertThat(raced).isTrue();
    assertThat(((FetchResult.Fetched) result).manifest().version()).isEqualTo(2);
  }

  @Test
  void bodyMissingTwiceIsAnErrorNamingTheKey() {
    SnapshotManifest published = publish(1, 1);
    storage.bucket.delete(ObjectKey.of(published.bodyKey())).block();

    StepVerifier.create(storage.fetcher().fetchLatest(null, downloads))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(ObjectNotFoundException.class)
                    .hasMessageContaining(published.bodyKey()))
        .verify();
  }

  @Test
  void unknownEtagFetchesAgain() {
    publish(1, 1);

    StepVerifier.create(storage.fetcher().fetchLatest(ETag.of("\"stale\""), downloads))
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
    public Mono<ObjectMeta> put(ObjectKey key, Flux<ByteBuffer> body, PutOptions options) {
      return super.put(map(key), body, options);
    }

    @Override
    public Mono<ReadResult> get(ObjectKey key, ReadCondition condition) {
      return super.get(map(key), condition);
    }

    @Override
    public Mono<ObjectMeta> head(ObjectKey key) {
      return super.head(map(key));
    }

    @Override
    public Flux<ObjectMeta> list(ObjectKey prefix) {
      return super.list(map(prefix));
    }

    @Override
    public Mono<Void> delete(ObjectKey key) {
      return super.delete(map(key));
    }
  }
}
