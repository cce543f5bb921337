package io.ballast.storage.minio;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.WriteCondition;
import io.ballast.testkit.S3ProxyServer;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

/**
 * A 1 GiB body of unknown length goes up in parts and comes back whole, under the module's 256 MiB
 * test heap: neither direction may hold it.
 */
class OneGibibyteStreamTest {

  private static final int MIB = 1024 * 1024;
  private static final int CHUNKS = 1024;
  private static final Duration BLOCK = Duration.ofMinutes(10);

  @TempDir Path dir;

  @Test
  void oneGibibyteOfUnknownLengthRoundTrips() throws Exception {
    try (S3ProxyServer server = S3ProxyServer.start(dir);
        StorageBackend backend =
            MinioBlocks.open(
                server.endpoint(), S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)) {
      server.createBucket("large");
      ObjectStorage storage = backend.bucket("large");
      ObjectKey key = ObjectKey.of("snapshots/large.ndjson.gz");
      MessageDigest written = MessageDigest.getInstance("SHA-256");

      ObjectMeta meta =
          storage
              .put(key, generated(written), PutOptions.of(WriteCondition.IF_ABSENT))
              .block(BLOCK);

      assertThat(meta.size()).isEqualTo((long) CHUNKS * MIB);
      ReadResult result = storage.get(key, ReadCondition.NONE).block(BLOCK);
      assertThat(result).isInstanceOf(ReadResult.Found.class);
      ReadResult.Found found = (ReadResult.Found) result;
      assertThat(found.meta().size()).isEqualTo((long) CHUNKS * MIB);
      MessageDigest read = MessageDigest.getInstance("SHA-256");
      AtomicLong readSize = new AtomicLong();
      found
          .body()
          .doOnNext(
              buffer -> {
                readSize.addAndGet(buffer.remaining());
                read.update(buffer);
              })
          .then()
          .block(BLOCK);
      assertThat(readSize).hasValue((long) CHUNKS * MIB);
      assertThat(read.digest()).isEqualTo(written.digest());
    }
  }

  /** Seeded pseudo-random MiB chunks, made one at a time as they are requested. */
  private static Flux<ByteBuffer> generated(MessageDigest digest) {
    return Flux.<ByteBuffer, Random>generate(
            () -> new Random(1),
            (random, sink) -> {
              byte[] chunk = new byte[MIB];
              random.nextBytes(chunk);
              digest.update(chunk);
              sink.next(ByteBuffer.wrap(chunk));
              return random;
            })
        .take(CHUNKS, true);
  }
}
