package io.ballast.storage.azure;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.storage.AccessDeniedException;
import io.ballast.storage.ChecksumMismatchException;
import io.ballast.storage.InvalidStorageConfigException;
import io.ballast.storage.MissingBucketException;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.StorageException;
import io.ballast.storage.StorageUnavailableException;
import io.ballast.storage.WriteCondition;
import io.ballast.testkit.AzuriteServer;
import io.ballast.testkit.FaultProxy;
import io.ballast.testkit.FreePorts;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Failures of a real Azurite, its network and its configuration, as the SPI reports them. */
class AzureBlobFaultTest {

  private static final String CONTAINER = "faults";
  private static final Duration BLOCK = Duration.ofSeconds(60);

  /** A well-formed key that is not the account's. */
  private static final String WRONG_KEY =
      "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleS0xMjM0NTY3ODkwYWJjZA==";

  @TempDir static Path dir;

  private static AzuriteServer server;
  private static StorageBackend direct;

  @BeforeAll
  static void start() {
    server = AzuriteServer.start(dir);
    AzureTestSupport.createContainer(server, CONTAINER);
    direct = AzureTestSupport.backend(server);
  }

  @AfterAll
  static void stop() {
    try {
      if (direct != null) {
        direct.close();
      }
    } finally {
      if (server != null) {
        server.close();
      }
    }
  }

  private static ObjectKey newKey() {
    return ObjectKey.of("faults-" + UUID.randomUUID() + "/latest.json");
  }

  private static Flux<ByteBuffer> body(byte[] bytes) {
    return Flux.just(ByteBuffer.wrap(bytes));
  }

  private static Mono<?> smallPut(ObjectStorage storage, ObjectKey key) {
    byte[] bytes = "{\"version\":1}".getBytes(StandardCharsets.UTF_8);
    return storage.put(key, body(bytes), PutOptions.of(WriteCondition.NONE));
  }

  /** The error {@code call} ends with, at most {@link #BLOCK} later. */
  private static Throwable failure(Mono<?> call) {
    return call.then(Mono.<Throwable>empty()).onErrorResume(Mono::just).block(BLOCK);
  }

  private static String stackTrace(Throwable error) {
    StringWriter text = new StringWriter();
    error.printStackTrace(new PrintWriter(text));
    return text.toString();
  }

  @Test
  void wrongKeyIsAccessDeniedNamingContainerAndKeyButNotTheSecret() {
    ObjectKey key = newKey();
    try (StorageBackend backend =
        AzureTestSupport.backend(server.blobEndpoint(), WRONG_KEY, "30s")) {
      ObjectStorage storage = backend.bucket(CONTAINER);

      for (Function<ObjectStorage, Mono<?>> call :
          List.<Function<ObjectStorage, Mono<?>>>of(
              s -> smallPut(s, key), s -> s.get(key, ReadCondition.NONE), s -> s.head(key))) {
        Throwable error = failure(call.apply(storage));
        assertThat(error)
            .isInstanceOf(AccessDeniedException.class)
            .hasMessageContaining(CONTAINER)
            .hasMessageContaining(key.value())
            .hasMessageNotContaining(WRONG_KEY);
        assertThat(stackTrace(error))
            .doesNotContain(WRONG_KEY)
            .doesNotContain(AzuriteServer.ACCOUNT_KEY);
      }
    }
  }

  @Test
  void accountKeyThatIsNotBase64IsAnInvalidConfiguration() {
    try (StorageBackend backend =
        AzureTestSupport.backend(server.blobEndpoint(), "base64key==", "30s")) {
      Throwable error = failure(backend.bucket(CONTAINER).head(newKey()));

      assertThat(error)
          .isInstanceOf(InvalidStorageConfigException.class)
          .hasMessageContaining(CONTAINER)
          .hasMessageNotContaining("base64key==");
    }
  }

  @Test
  void missingContainerIsAnInvalidConfiguration() {
    ObjectStorage storage = direct.bucket("no-such-container");
    ObjectKey key = newKey();

    for (Mono<?> call :
        List.<Mono<?>>of(
            smallPut(storage, key),
            storage.get(key, ReadCondition.NONE),
            storage.head(key),
            storage.list(key).then(),
            storage.delete(key))) {
      assertThat(failure(call))
          .isInstanceOf(MissingBucketException.class)
          .hasMessageContaining("bucket 'no-such-container' does not exist")
          .hasMessageContaining(key.value());
    }
    assertThat(failure(storage.checkExists()))
        .isInstanceOf(MissingBucketException.class)
        .hasMessageContaining("bucket 'no-such-container' does not exist");
  }

  @Test
  void unreachableEndpointIsUnavailable() {
    String endpoint = "http://127.0.0.1:" + FreePorts.next() + "/" + AzuriteServer.ACCOUNT_NAME;
    try (StorageBackend backend =
        AzureTestSupport.backend(endpoint, AzuriteServer.ACCOUNT_KEY, "2s")) {
      ObjectKey key = newKey();

      assertThat(failure(backend.bucket(CONTAINER).get(key, ReadCondition.NONE)))
          .isInstanceOf(StorageUnavailableException.class)
          .hasMessageContaining(key.value());
    }
  }

  @Test
  void serverErrorsAreUnavailable() {
    try (FaultProxy proxy = FaultProxy.start(server.port());
        StorageBackend backend = throughProxy(proxy, "5s")) {
      proxy.mode(FaultProxy.Mode.HTTP_500);
      ObjectKey key = newKey();

      assertThat(failure(smallPut(backend.bucket(CONTAINER), key)))
          .isInstanceOf(StorageUnavailableException.class)
          .hasMessageContaining(key.value())
          .hasMessageContaining("500");
    }
  }

  @Test
  void hungServerIsUnavailableAfterTheTimeout() {
    try (FaultProxy proxy = FaultProxy.start(server.port());
        StorageBackend backend = throughProxy(proxy, "2s")) {
      proxy.mode(FaultProxy.Mode.HANG);
      ObjectKey key = newKey();

      assertThat(failure(backend.bucket(CONTAINER).get(key, ReadCondition.NONE)))
          .isInstanceOf(StorageUnavailableException.class)
          .hasMessageContaining(key.value());
    }
  }

  @Test
  void bodyCorruptedInFlightIsRefusedAndNotStored() {
    try (FaultProxy proxy = FaultProxy.start(server.port());
        StorageBackend backend = throughProxy(proxy, "30s")) {
      ObjectKey key = newKey();
      byte[] bytes = new byte[64 * 1024];
      new Random(7).nextBytes(bytes);
      proxy.corruptNextRequestBody();

      Throwable error =
          failure(
              backend
                  .bucket(CONTAINER)
                  .put(key, body(bytes), PutOptions.of(WriteCondition.IF_ABSENT)));

      assertThat(error)
          .isInstanceOf(ChecksumMismatchException.class)
          .hasMessageContaining(key.value());
      assertThat(direct.bucket(CONTAINER).head(key).block(BLOCK)).isNull();
    }
  }

  @Test
  void stagedBlockCorruptedInFlightIsRefusedAndNothingIsCommitted() {
    try (FaultProxy proxy = FaultProxy.start(server.port());
        StorageBackend backend = throughProxy(proxy, "30s")) {
      ObjectKey key = newKey();
      // Two parts: the body goes up as staged blocks, the first of which is corrupted.
      Flux<ByteBuffer> large =
          Flux.range(0, 10)
              .map(
                  i -> {
                    byte[] chunk = new byte[1024 * 1024];
                    new Random(i).nextBytes(chunk);
                    return ByteBuffer.wrap(chunk);
                  });
      proxy.corruptNextRequestBody();

      Throwable error =
          failure(
              backend.bucket(CONTAINER).put(key, large, PutOptions.of(WriteCondition.IF_ABSENT)));

      assertThat(error).isInstanceOf(StorageException.class).hasMessageContaining(key.value());
      assertThat(error).isInstanceOf(ChecksumMismatchException.class);
      assertThat(direct.bucket(CONTAINER).head(key).block(BLOCK)).isNull();
    }
  }

  @Test
  void conditionalGetOfAnUnchangedObjectTransfersNoBody() {
    try (FaultProxy proxy = FaultProxy.start(server.port());
        StorageBackend backend = throughProxy(proxy, "30s")) {
      ObjectStorage storage = backend.bucket(CONTAINER);
      ObjectKey key = newKey();
      int size = 100 * 1024;
      byte[] bytes = new byte[size];
      new Random(11).nextBytes(bytes);
      var meta = storage.put(key, body(bytes), PutOptions.of(WriteCondition.NONE)).block(BLOCK);

      proxy.resetCounters();
      ReadResult unchanged = storage.get(key, ReadCondition.ifNoneMatch(meta.etag())).block(BLOCK);

      assertThat(unchanged).isEqualTo(new ReadResult.NotModified(key, meta.etag()));
      assertThat(proxy.bytesFromServer()).isLessThan(4 * 1024);

      proxy.resetCounters();
      ReadResult found = storage.get(key, ReadCondition.NONE).block(BLOCK);
      assertThat(found).isInstanceOf(ReadResult.Found.class);
      Long read =
          ((ReadResult.Found) found)
              .body()
              .map(buffer -> (long) buffer.remaining())
              .reduce(0L, Long::sum)
              .block(BLOCK);
      assertThat(read).isEqualTo(size);
      assertThat(proxy.bytesFromServer()).isGreaterThan(size);
    }
  }

  private static StorageBackend throughProxy(FaultProxy proxy, String timeout) {
    return AzureTestSupport.backend(
        proxy.endpoint() + "/" + AzuriteServer.ACCOUNT_NAME, AzuriteServer.ACCOUNT_KEY, timeout);
  }
}
