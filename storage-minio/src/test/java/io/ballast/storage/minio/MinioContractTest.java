package io.ballast.storage.minio;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.storage.AbstractObjectStorageContractTest;
import io.ballast.storage.ConditionFailedException;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PartedUpload;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.WriteCondition;
import io.ballast.testkit.S3ProxyServer;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * The storage contract against S3Proxy 4.1.0 (filesystem store, signatures checked). Its If-Match
 * race cannot pass there (see {@link #serverIsAtomicUnder}).
 */
class MinioContractTest extends AbstractObjectStorageContractTest {

  private static final String BUCKET = "contract";

  @TempDir static Path dir;

  private static S3ProxyServer server;
  private static StorageBackend backend;
  private static ObjectStorage storage;

  @BeforeAll
  static void start() {
    server = S3ProxyServer.start(dir);
    server.createBucket(BUCKET);
    backend =
        MinioBlocks.open(server.endpoint(), S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
    storage = backend.bucket(BUCKET);
  }

  /**
   * S3Proxy 4.1.0 (filesystem) checks If-Match, then writes: two racing writers won in 8 of 13
   * runs. Its If-None-Match: * is atomic.
   */
  @Override
  protected boolean serverIsAtomicUnder(WriteCondition condition) {
    return !(condition instanceof WriteCondition.IfMatch);
  }

  @AfterAll
  static void stop() {
    try {
      if (backend != null) {
        backend.close();
      }
    } finally {
      if (server != null) {
        server.close();
      }
    }
  }

  @Override
  protected ObjectStorage storage() {
    return storage;
  }

  // Beyond the contract: the write condition on a multipart upload travels on its completion.

  @Test
  void multipartIfAbsentOnAnExistingObjectFailsAndKeepsIt() {
    ObjectKey key = root().resolve("snapshots/0001.ndjson.gz");
    put(key, "first", WriteCondition.IF_ABSENT);

    StepVerifier.create(storage.put(key, twoParts(), PutOptions.of(WriteCondition.IF_ABSENT)))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(ConditionFailedException.class)
                    .hasMessageContaining(key.value()))
        .verify(TIMEOUT);
    assertThat(text(found(key, ReadCondition.NONE).body())).isEqualTo("first");
  }

  @Test
  void multipartIfMatchReplacesOnlyTheCurrentVersion() {
    ObjectKey key = root().resolve("latest.json");
    ObjectMeta v1 = put(key, "v1", WriteCondition.NONE);

    ObjectMeta v2 =
        storage
            .put(key, twoParts(), PutOptions.of(WriteCondition.ifMatch(v1.etag())))
            .block(TIMEOUT);

    assertThat(v2.size()).isEqualTo(PartedUpload.DEFAULT_PART_SIZE + 1L);
    StepVerifier.create(
            storage.put(key, twoParts(), PutOptions.of(WriteCondition.ifMatch(v1.etag()))))
        .expectError(ConditionFailedException.class)
        .verify(TIMEOUT);
    assertThat(found(key, ReadCondition.NONE).meta().etag()).isEqualTo(v2.etag());
  }

  @Test
  void etagsAreQuotedAndTheSameInPutHeadGetAndList() {
    ObjectKey key = root().resolve("a/latest.json");
    ObjectMeta single = put(key, "v1", WriteCondition.NONE);
    ObjectMeta multi =
        storage
            .put(root().resolve("a/multi"), twoParts(), PutOptions.of(WriteCondition.NONE))
            .block(TIMEOUT);

    assertThat(single.etag().value()).startsWith("\"").endsWith("\"");
    assertThat(multi.etag().value()).startsWith("\"").endsWith("-2\"");
    assertThat(storage.head(key).block(TIMEOUT).etag()).isEqualTo(single.etag());
    assertThat(storage.list(root().resolve("a")).collectList().block(TIMEOUT))
        .extracting(ObjectMeta::etag)
        .containsExactly(single.etag(), multi.etag());
  }

  /** One byte more than a part: two parts, so a multipart upload. */
  private static Flux<ByteBuffer> twoParts() {
    return Flux.just(ByteBuffer.wrap(new byte[PartedUpload.DEFAULT_PART_SIZE + 1]));
  }
}
