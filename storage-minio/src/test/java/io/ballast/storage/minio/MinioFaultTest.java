package io.ballast.storage.minio;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.storage.AccessDeniedException;
import io.ballast.storage.ChecksumMismatchException;
import io.ballast.storage.InvalidStorageConfigException;
import io.ballast.storage.MissingBucketException;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PartedUpload;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.StorageException;
import io.ballast.storage.StorageUnavailableException;
import io.ballast.storage.WriteCondition;
import io.ballast.testkit.FaultProxy;
import io.ballast.testkit.FreePorts;
import io.ballast.testkit.S3ProxyServer;
import io.minio.MinioAsyncClient;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Failures of a real S3 server (S3Proxy 4.1.0), some injected by a proxy in front of it. */
class MinioFaultTest {

  /** Generous: only a hang that never ends would fail it; no test measures speed. */
  private static final Duration BLOCK = Duration.ofSeconds(60);

  private static final String BUCKET = "faults";
  private static final String WRONG_SECRET = "wrong-secret-key-do-not-print";
  private static final int KIB = 1024;

  @TempDir static Path dir;

  private static S3ProxyServer server;
  private static StorageBackend backend;

  private ObjectKey root;

  @BeforeAll
  static void start() {
    server = S3ProxyServer.start(dir);
    server.createBucket(BUCKET);
    backend =
        MinioBlocks.open(server.endpoint(), S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
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

  @BeforeEach
  void newRoot() {
    root = ObjectKey.of("faults-" + UUID.randomUUID());
  }

  @Test
  void wrongSecretIsAccessDeniedNamingBucketAndKeyButNotTheSecret() {
    ObjectKey key = root.resolve("latest.json");
    try (StorageBackend wrong =
        MinioBlocks.open(server.endpoint(), S3ProxyServer.ACCESS_KEY, WRONG_SECRET)) {
      ObjectStorage storage = wrong.bucket(BUCKET);

      for (Mono<?> call :
          new Mono<?>[] {
            storage.get(key, ReadCondition.NONE), put(storage, key, "body", WriteCondition.NONE)
          }) {
        Throwable error = failure(call);
        assertThat(error)
            .isInstanceOf(AccessDeniedException.class)
            .hasMessageContaining(BUCKET)
            .hasMessageContaining(key.value());
        assertThat(error.toString()).doesNotContain(WRONG_SECRET);
      }
      assertThat(wrong.toString()).doesNotContain(WRONG_SECRET);
      assertThat(storage.describe()).doesNotContain(WRONG_SECRET);
    }
  }

  @Test
  void wrongAccessKeyIsAccessDenied() {
    try (StorageBackend wrong =
        MinioBlocks.open(server.endpoint(), "no-such-access-key", S3ProxyServer.SECRET_KEY)) {
      assertThat(failure(wrong.bucket(BUCKET).head(root.resolve("x"))))
          .isInstanceOf(AccessDeniedException.class);
    }
  }

  @Test
  void missingBucketIsInvalidConfiguration() {
    ObjectStorage missing = backend.bucket("no-such-bucket");
    ObjectKey key = root.resolve("latest.json");

    assertThat(failure(missing.get(key, ReadCondition.NONE)))
        .isInstanceOf(InvalidStorageConfigException.class)
        .hasMessageContaining("bucket 'no-such-bucket' does not exist");
    assertThat(failure(put(missing, key, "body", WriteCondition.NONE)))
        .isInstanceOf(InvalidStorageConfigException.class)
        .hasMessageContaining("bucket 'no-such-bucket' does not exist");
    assertThat(failure(missing.list(root).then()))
        .isInstanceOf(InvalidStorageConfigException.class);
    assertThat(failure(missing.head(key))).isInstanceOf(MissingBucketException.class);
    assertThat(failure(missing.checkExists()))
        .isInstanceOf(MissingBucketException.class)
        .hasMessageContaining("bucket 'no-such-bucket' does not exist");
  }

  @Test
  void bucketNameS3RefusesIsInvalidConfiguration() {
    assertThat(failure(backend.bucket("No_Such_Bucket").head(root.resolve("x"))))
        .isInstanceOf(InvalidStorageConfigException.class)
        .hasMessageContaining("No_Such_Bucket");
  }

  @Test
  void unreachableEndpointIsUnavailable() {
    URI nobody = URI.create("http://127.0.0.1:" + FreePorts.next());
    try (StorageBackend unreachable =
        MinioBlocks.open(nobody, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)) {
      ObjectStorage storage = unreachable.bucket(BUCKET);
      ObjectKey key = root.resolve("latest.json");

      assertThat(failure(storage.get(key, ReadCondition.NONE)))
          .isInstanceOf(StorageUnavailableException.class)
          .hasMessageContaining(key.value());
      assertThat(failure(put(storage, key, "body", WriteCondition.IF_ABSENT)))
          .isInstanceOf(StorageUnavailableException.class);
      assertThat(failure(storage.list(root).then()))
          .isInstanceOf(StorageUnavailableException.class);
    }
  }

  @Test
  void serverErrorsAreUnavailable() {
    try (FaultProxy proxy = FaultProxy.start(server.port());
        StorageBackend proxied = proxied(proxy)) {
      proxy.mode(FaultProxy.Mode.HTTP_500);
      ObjectStorage storage = proxied.bucket(BUCKET);
      ObjectKey key = root.resolve("latest.json");

      assertThat(failure(storage.get(key, ReadCondition.NONE)))
          .isInstanceOf(StorageUnavailableException.class)
          .hasMessageContaining(key.value());
      assertThat(failure(storage.head(key))).isInstanceOf(StorageUnavailableException.class);
      assertThat(failure(put(storage, key, "body", WriteCondition.NONE)))
          .isInstanceOf(StorageUnavailableException.class);
      assertThat(failure(storage.delete(key))).isInstanceOf(StorageUnavailableException.class);
    }
  }

  @Test
  void hungServerIsUnavailableAfterTheTimeout() {
    try (FaultProxy proxy = FaultProxy.start(server.port());
        StorageBackend proxied = proxied(proxy, "timeout: 2s")) {
      proxy.mode(FaultProxy.Mode.HANG);
      ObjectStorage storage = proxied.bucket(BUCKET);
      ObjectKey key = root.resolve("latest.json");

      assertThat(failure(storage.get(key, ReadCondition.NONE)))
          .isInstanceOf(StorageUnavailableException.class)
          .hasMessageContaining(key.value());
      assertThat(failure(put(storage, key, "body", WriteCondition.NONE)))
          .isInstanceOf(StorageUnavailableException.class);
    }
  }

  @Test
  void bodyCorruptedInFlightIsRefusedAndNotStored() {
    ObjectKey key = root.resolve("snapshots/0001.ndjson.gz");
    try (FaultProxy proxy = FaultProxy.start(server.port());
        StorageBackend proxied = proxied(proxy, "timeout: 5s")) {
      proxy.corruptNextRequestBody();

      Throwable error =
          failure(put(proxied.bucket(BUCKET), key, "a snapshot body", WriteCondition.IF_ABSENT));

      assertThat(proxy.corruptionPending()).isFalse();
      // S3Proxy refuses the body (400 XAmzContentSHA256Mismatch, "Connection: close", no length),
      // but FaultProxy does not pass the server's close on to the client, so the client sees the
      // read time out; corruptedBodyIsAChecksumMismatch shows the server's own answer.
      assertThat(error).hasMessageContaining(key.value());
    }
    assertThat(backend.bucket(BUCKET).head(key).blockOptional(BLOCK)).isEmpty();
  }

  @Test
  void corruptedBodyIsAChecksumMismatch() {
    ObjectKey key = root.resolve("snapshots/0002.ndjson.gz");
    CorruptingMinioClient client =
        new CorruptingMinioClient(
            MinioAsyncClient.builder()
                .endpoint(server.endpoint().toString())
                .region(MinioStorageProvider.DEFAULT_REGION)
                .credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)
                .build());
    try (StorageBackend corrupting =
        new MinioBackend(
            client, server.endpoint().toString(), MinioStorageProvider.DEFAULT_REGION)) {
      client.corruptNextRequestBody();

      Throwable error =
          failure(put(corrupting.bucket(BUCKET), key, "a snapshot body", WriteCondition.IF_ABSENT));

      assertThat(client.corruptionPending()).isFalse();
      assertThat(error)
          .isInstanceOf(ChecksumMismatchException.class)
          .hasMessageContaining(BUCKET)
          .hasMessageContaining(key.value())
          .hasMessageContaining("XAmzContentSHA256Mismatch");
    }
    assertThat(backend.bucket(BUCKET).head(key).blockOptional(BLOCK)).isEmpty();
  }

  @Test
  void corruptedPartOfAMultipartUploadIsAChecksumMismatchAndNothingIsStored() {
    ObjectKey key = root.resolve("snapshots/0003.ndjson.gz");
    CorruptingMinioClient client =
        new CorruptingMinioClient(
            MinioAsyncClient.builder()
                .endpoint(server.endpoint().toString())
                .region(MinioStorageProvider.DEFAULT_REGION)
                .credentials(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)
                .build());
    byte[] body = new byte[PartedUpload.DEFAULT_PART_SIZE + 1000];
    new Random(3).nextBytes(body);
    try (StorageBackend corrupting =
        new MinioBackend(
            client, server.endpoint().toString(), MinioStorageProvider.DEFAULT_REGION)) {
      ObjectStorage storage = corrupting.bucket(BUCKET);
      // The first request with a body is the first part (CreateMultipartUpload has none).
      client.corruptNextRequestBody();

      Throwable error =
          failure(
              storage.put(
                  key, Flux.just(ByteBuffer.wrap(body)), PutOptions.of(WriteCondition.IF_ABSENT)));

      assertThat(error)
          .isInstanceOf(ChecksumMismatchException.class)
          .hasMessageContaining(key.value());
    }
    assertThat(backend.bucket(BUCKET).head(key).blockOptional(BLOCK)).isEmpty();
  }

  @Test
  void conditionalGetOfUnchangedObjectTransfersNoBody() {
    byte[] body = new byte[100 * KIB];
    new Random(7).nextBytes(body);
    ObjectKey key = root.resolve("resources/latest.json");
    try (FaultProxy proxy = FaultProxy.start(server.port());
        StorageBackend proxied = proxied(proxy)) {
      ObjectStorage storage = proxied.bucket(BUCKET);
      ObjectMeta put =
          storage
              .put(
                  key,
                  Flux.just(ByteBuffer.wrap(body)),
                  PutOptions.of(WriteCondition.NONE).withContentLength(body.length))
              .block(BLOCK);

      proxy.resetCounters();
      ReadResult unchanged = storage.get(key, ReadCondition.ifNoneMatch(put.etag())).block(BLOCK);

      assertThat(unchanged).isEqualTo(new ReadResult.NotModified(key, put.etag()));
      assertThat(proxy.bytesFromServer()).isLessThan(4 * KIB);

      proxy.resetCounters();
      ReadResult found = storage.get(key, ReadCondition.NONE).block(BLOCK);
      assertThat(found).isInstanceOf(ReadResult.Found.class);
      long read =
          ((ReadResult.Found) found)
              .body()
              .map(ByteBuffer::remaining)
              .reduce(0L, Long::sum)
              .block(BLOCK);

      assertThat(read).isEqualTo(body.length);
      assertThat(proxy.bytesFromServer()).isGreaterThan(body.length);
    }
  }

  private static StorageBackend proxied(FaultProxy proxy, String... extra) {
    return MinioBlocks.open(
        proxy.endpoint(), S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY, extra);
  }

  private static Mono<ObjectMeta> put(
      ObjectStorage storage, ObjectKey key, String body, WriteCondition condition) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    return storage.put(
        key,
        Flux.just(ByteBuffer.wrap(bytes)),
        PutOptions.of(condition).withContentLength(bytes.length));
  }

  /** The error {@code call} ends with; fails the test if it succeeds. */
  private static Throwable failure(Mono<?> call) {
    Throwable error =
        call.then(Mono.<Throwable>error(new AssertionError("expected a failure, got success")))
            .onErrorResume(e -> e instanceof AssertionError ? Mono.error(e) : Mono.just(e))
            .block(BLOCK);
    assertThat(error).isInstanceOf(StorageException.class);
    return error;
  }
}
