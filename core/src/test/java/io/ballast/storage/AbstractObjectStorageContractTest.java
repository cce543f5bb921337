package io.ballast.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.IntFunction;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * The behaviour every {@link ObjectStorage} backend must show, run by each backend against a real
 * server (or, for the filesystem and memory backends, a real folder and a map).
 *
 * <p>Isolation: every test works below its own unique key prefix, {@link #root()}, so {@link
 * #storage()} may hand out the same bucket for every test and nothing needs clearing between tests.
 * A backend that can afford it may still return a fresh bucket per test.
 */
public abstract class AbstractObjectStorageContractTest {

  protected static final Duration TIMEOUT = Duration.ofSeconds(30);

  /** MiB; large enough that a backend holding a body whole would fail in a 256 MiB heap. */
  private static final int LARGE_CHUNKS = 64;

  private static final int WRITERS = 16;

  private ObjectKey root;

  /** The bucket under test; see the class comment on isolation. */
  protected abstract ObjectStorage storage();

  /**
   * Whether the server checks a write condition of this kind and writes in one atomic step. AWS S3,
   * MinIO, Azure and the filesystem backend do. Some test servers check first and write afterwards,
   * so that two racing writers can both win: S3Proxy 4.1 (filesystem store) for If-Match, S3Mock
   * 5.2 for both kinds. A backend tested on such a server returns false for that kind; its race
   * test is then reported as skipped with the reason, instead of failing on the server's behalf.
   * The sequential behaviour of both conditions is tested on every server.
   */
  protected boolean serverIsAtomicUnder(WriteCondition condition) {
    return true;
  }

  /** This test's own key prefix. */
  protected final ObjectKey root() {
    return root;
  }

  @BeforeEach
  void newRoot() {
    root = ObjectKey.of("contract-" + UUID.randomUUID());
  }

  @Test
  void theBucketUnderTestExists() {
    StepVerifier.create(storage().checkExists()).expectComplete().verify(TIMEOUT);
  }

  // ---------------------------------------------------------------------------------------------
  // keys

  @ParameterizedTest
  @ValueSource(
      strings = {"", " ", "/a", "a/", "a//b", "./a", "a/./b", "a/../b", "..", "a\\b", "a\u0001b"})
  void objectKeyRefusesAmbiguousNames(String value) {
    assertThatThrownBy(() -> ObjectKey.of(value)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void objectKeyResolvesAndNamesItsLastSegment() {
    ObjectKey key = ObjectKey.of("group/resources").resolve("snapshots/0001.ndjson.gz");
    assertThat(key.value()).isEqualTo("group/resources/snapshots/0001.ndjson.gz");
    assertThat(key.fileName()).isEqualTo("0001.ndjson.gz");
  }

  // ---------------------------------------------------------------------------------------------
  // put, get, head

  @Test
  void roundTripKeepsBodyAndMetadata() {
    ObjectKey key = root.resolve("latest.json");
    byte[] body = "{\"version\":7}".getBytes(StandardCharsets.UTF_8);
    Map<String, String> metadata = Map.of("sha256", sha256(body), "kind", "resources");

    ObjectMeta put =
        put(
            key,
            body,
            PutOptions.of(WriteCondition.NONE)
                .withMetadata(metadata)
                .withContentLength(body.length));

    assertThat(put.key()).isEqualTo(key);
    assertThat(put.size()).isEqualTo(body.length);
    assertThat(put.metadata()).isEqualTo(metadata);
    ReadResult.Found found = found(key, ReadCondition.NONE);
    assertThat(found.meta().etag()).isEqualTo(put.etag());
    assertThat(found.meta().size()).isEqualTo(body.length);
    assertThat(found.meta().metadata()).isEqualTo(metadata);
    assertThat(bytes(found.body())).isEqualTo(body);
    ObjectMeta head = storage().head(key).block(TIMEOUT);
    assertThat(head).isNotNull();
    assertThat(head.etag()).isEqualTo(put.etag());
    assertThat(head.size()).isEqualTo(body.length);
    assertThat(head.metadata()).isEqualTo(metadata);
  }

  @Test
  void emptyBodyRoundTrips() {
    ObjectKey key = root.resolve("empty");
    put(key, new byte[0], PutOptions.of(WriteCondition.NONE));
    assertThat(bytes(found(key, ReadCondition.NONE).body())).isEmpty();
  }

  @Test
  void headOfMissingObjectIsEmpty() {
    StepVerifier.create(storage().head(root.resolve("missing"))).expectComplete().verify(TIMEOUT);
  }

  @Test
  void getOfMissingObjectIsNotFound() {
    ObjectKey key = root.resolve("missing");
    assertThat(storage().get(key, ReadCondition.NONE).block(TIMEOUT))
        .isEqualTo(new ReadResult.NotFound(key));
  }

  @Test
  void getWithCurrentETagIsNotModified() {
    ObjectKey key = root.resolve("latest.json");
    ObjectMeta put = put(key, "v1", WriteCondition.NONE);

    assertThat(storage().get(key, ReadCondition.ifNoneMatch(put.etag())).block(TIMEOUT))
        .isEqualTo(new ReadResult.NotModified(key, put.etag()));
  }

  @Test
  void getWithOldETagIsFound() {
    ObjectKey key = root.resolve("latest.json");
    ObjectMeta old = put(key, "v1", WriteCondition.NONE);
    ObjectMeta current = put(key, "v2", WriteCondition.NONE);

    ReadResult.Found found = found(key, ReadCondition.ifNoneMatch(old.etag()));
    assertThat(found.meta().etag()).isEqualTo(current.etag()).isNotEqualTo(old.etag());
    assertThat(text(found.body())).isEqualTo("v2");
  }

  // ---------------------------------------------------------------------------------------------
  // write conditions

  @Test
  void ifAbsentRefusesAnExistingObject() {
    ObjectKey key = root.resolve("snapshots/0001.ndjson.gz");
    put(key, "first", WriteCondition.IF_ABSENT);

    StepVerifier.create(putMono(key, "second", WriteCondition.IF_ABSENT))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(ConditionFailedException.class)
                    .hasMessageContaining(key.value()))
        .verify(TIMEOUT);
    assertThat(text(found(key, ReadCondition.NONE).body())).isEqualTo("first");
  }

  @Test
  void ifMatchWithStaleETagFails() {
    ObjectKey key = root.resolve("latest.json");
    ObjectMeta stale = put(key, "v1", WriteCondition.NONE);
    put(key, "v2", WriteCondition.ifMatch(stale.etag()));

    StepVerifier.create(putMono(key, "v3", WriteCondition.ifMatch(stale.etag())))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(ConditionFailedException.class)
                    .hasMessageContaining(key.value()))
        .verify(TIMEOUT);
    assertThat(text(found(key, ReadCondition.NONE).body())).isEqualTo("v2");
  }

  @Test
  void ifMatchOnMissingObjectFails() {
    ObjectKey key = root.resolve("latest.json");
    ObjectMeta elsewhere = put(root.resolve("other.json"), "v1", WriteCondition.NONE);

    StepVerifier.create(putMono(key, "v1", WriteCondition.ifMatch(elsewhere.etag())))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(ConditionFailedException.class)
                    .hasMessageContaining(key.value()))
        .verify(TIMEOUT);
    StepVerifier.create(storage().head(key)).expectComplete().verify(TIMEOUT);
  }

  @Test
  void ifMatchWithCurrentETagReplacesAndGivesANewETag() {
    ObjectKey key = root.resolve("latest.json");
    ObjectMeta v1 = put(key, "v1", WriteCondition.NONE);

    ObjectMeta v2 = put(key, "v2", WriteCondition.ifMatch(v1.etag()));

    assertThat(v2.etag()).isNotEqualTo(v1.etag());
    ReadResult.Found found = found(key, ReadCondition.NONE);
    assertThat(found.meta().etag()).isEqualTo(v2.etag());
    assertThat(text(found.body())).isEqualTo("v2");
  }

  @Test
  void ofConcurrentIfMatchWritersExactlyOneWins() {
    assumeAtomic(WriteCondition.ifMatch(ETag.of("\"any\"")));
    ObjectKey key = root.resolve("latest.json");
    ObjectMeta base = put(key, "base", WriteCondition.NONE);

    List<Outcome> outcomes = race(key, i -> WriteCondition.ifMatch(base.etag()));

    assertExactlyOneWinner(key, outcomes);
  }

  @Test
  void ofConcurrentIfAbsentCreatorsExactlyOneWins() {
    assumeAtomic(WriteCondition.IF_ABSENT);
    ObjectKey key = root.resolve("snapshots/0001.ndjson.gz");

    List<Outcome> outcomes = race(key, i -> WriteCondition.IF_ABSENT);

    assertExactlyOneWinner(key, outcomes);
  }

  // ---------------------------------------------------------------------------------------------
  // checksums and large bodies

  @Test
  void checksumMismatchIsRefusedAndNothingIsStored() {
    ObjectKey key = root.resolve("snapshots/0002.ndjson.gz");
    byte[] body = "the body".getBytes(StandardCharsets.UTF_8);
    String wrong = sha256("another body".getBytes(StandardCharsets.UTF_8));

    StepVerifier.create(
            storage()
                .put(
                    key,
                    Flux.just(ByteBuffer.wrap(body)),
                    PutOptions.of(WriteCondition.IF_ABSENT).withSha256Hex(wrong)))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(ChecksumMismatchException.class)
                    .hasMessageContaining(key.value()))
        .verify(TIMEOUT);
    StepVerifier.create(storage().head(key)).expectComplete().verify(TIMEOUT);
    StepVerifier.create(storage().list(root)).expectComplete().verify(TIMEOUT);
  }

  @Test
  void matchingChecksumIsAccepted() {
    ObjectKey key = root.resolve("snapshots/0003.ndjson.gz");
    byte[] body = "the body".getBytes(StandardCharsets.UTF_8);

    put(
        key,
        body,
        PutOptions.of(WriteCondition.IF_ABSENT)
            .withSha256Hex(sha256(body))
            .withContentLength(body.length));

    assertThat(bytes(found(key, ReadCondition.NONE).body())).isEqualTo(body);
  }

  @Test
  void largeBodyOfUnknownLengthStreamsBothWays() {
    LargeBodies.assertRoundTrip(
        storage(), root.resolve("snapshots/large.ndjson.gz"), LARGE_CHUNKS, Duration.ofMinutes(5));
  }

  // ---------------------------------------------------------------------------------------------
  // list and delete

  @Test
  void listFindsEveryObjectBelowThePrefixInAscendingOrder() {
    List<String> below = List.of("a/1", "a/b/2", "a/b/c/3", "a/z");
    // No key equal to the prefix itself ("a"): the filesystem backend cannot hold "a" beside "a/1".
    for (String name : List.of("a/z", "a/b/c/3", "ab/x", "a/1", "b/y", "a/b/2", "a-b/1")) {
      put(root.resolve(name), name, WriteCondition.NONE);
    }

    List<ObjectMeta> listed = storage().list(root.resolve("a")).collectList().block(TIMEOUT);

    assertThat(listed)
        .extracting(ObjectMeta::key)
        .containsExactlyElementsOf(below.stream().map(root::resolve).toList());
    // Each body is its own name.
    assertThat(listed).extracting(ObjectMeta::size).containsExactly(3L, 5L, 7L, 3L);
  }

  @Test
  void listOfMissingPrefixIsEmpty() {
    StepVerifier.create(storage().list(root.resolve("nothing"))).expectComplete().verify(TIMEOUT);
  }

  @Test
  void deletedObjectIsNotFound() {
    ObjectKey key = root.resolve("snapshots/0001.ndjson.gz");
    put(key, "body", WriteCondition.NONE);

    storage().delete(key).block(TIMEOUT);

    assertThat(storage().get(key, ReadCondition.NONE).block(TIMEOUT))
        .isEqualTo(new ReadResult.NotFound(key));
    StepVerifier.create(storage().list(root)).expectComplete().verify(TIMEOUT);
  }

  @Test
  void deleteOfMissingObjectCompletes() {
    StepVerifier.create(storage().delete(root.resolve("missing"))).expectComplete().verify(TIMEOUT);
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  private void assumeAtomic(WriteCondition condition) {
    assumeTrue(
        serverIsAtomicUnder(condition),
        "the test server checks "
            + condition.getClass().getSimpleName()
            + " before it writes, not atomically, so racing writers can both win there; see"
            + " serverIsAtomicUnder");
  }

  private record Outcome(int writer, ObjectMeta meta, Throwable error) {}

  private List<Outcome> race(ObjectKey key, IntFunction<WriteCondition> condition) {
    return Flux.range(0, WRITERS)
        .flatMap(
            i ->
                putMono(key, "writer-" + i, condition.apply(i))
                    .map(meta -> new Outcome(i, meta, null))
                    .onErrorResume(e -> Mono.just(new Outcome(i, null, e)))
                    .subscribeOn(Schedulers.boundedElastic()),
            WRITERS)
        .collectList()
        .block(TIMEOUT);
  }

  private void assertExactlyOneWinner(ObjectKey key, List<Outcome> outcomes) {
    assertThat(outcomes).hasSize(WRITERS);
    List<Outcome> winners = outcomes.stream().filter(o -> o.error() == null).toList();
    assertThat(winners).hasSize(1);
    assertThat(outcomes.stream().filter(o -> o.error() != null))
        .allSatisfy(
            o ->
                assertThat(o.error())
                    .isInstanceOf(ConditionFailedException.class)
                    .hasMessageContaining(key.value()));
    Outcome winner = winners.get(0);
    ReadResult.Found found = found(key, ReadCondition.NONE);
    assertThat(found.meta().etag()).isEqualTo(winner.meta().etag());
    assertThat(text(found.body())).isEqualTo("writer-" + winner.writer());
  }

  protected final ObjectMeta put(ObjectKey key, String body, WriteCondition condition) {
    return putMono(key, body, condition).block(TIMEOUT);
  }

  protected final ObjectMeta put(ObjectKey key, byte[] body, PutOptions options) {
    return storage().put(key, Flux.just(ByteBuffer.wrap(body)), options).block(TIMEOUT);
  }

  protected final Mono<ObjectMeta> putMono(ObjectKey key, String body, WriteCondition condition) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    return storage()
        .put(
            key,
            Flux.just(ByteBuffer.wrap(bytes)),
            PutOptions.of(condition).withContentLength(bytes.length));
  }

  protected final ReadResult.Found found(ObjectKey key, ReadCondition condition) {
    ReadResult result = storage().get(key, condition).block(TIMEOUT);
    assertThat(result).isInstanceOf(ReadResult.Found.class);
    return (ReadResult.Found) result;
  }

  protected static byte[] bytes(Flux<ByteBuffer> body) {
    return body.reduce(
            new byte[0],
            (all, buffer) -> {
              byte[] next = new byte[all.length + buffer.remaining()];
              System.arraycopy(all, 0, next, 0, all.length);
              buffer.get(next, all.length, buffer.remaining());
              return next;
            })
        .block(TIMEOUT);
  }

  protected static String text(Flux<ByteBuffer> body) {
    return new String(bytes(body), StandardCharsets.UTF_8);
  }

  protected static String sha256(byte[] body) {
    return HexFormat.of().formatHex(digest().digest(body));
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
