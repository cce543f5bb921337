package io.ballast.storage.azure;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.WriteCondition;
import io.ballast.testkit.AzuriteServer;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

/**
 * A 1 GiB body of unknown length goes up as staged blocks and comes back intact, in a 256 MiB heap:
 * neither direction may hold it whole.
 */
class OneGibibyteStreamTest {

  private static final int CHUNK = 1024 * 1024;
  private static final int CHUNKS = 1024;

  @TempDir Path dir;

  @Test
  void oneGibibyteOfUnknownLengthRoundTrips() throws Exception {
    try (AzuriteServer server = AzuriteServer.start(dir);
        StorageBackend backend = AzureTestSupport.backend(server)) {
      AzureTestSupport.createContainer(server, "large");
      ObjectStorage storage = backend.bucket("large");
      ObjectKey key = ObjectKey.of("group/resources/snapshots/0001.ndjson.gz");
      MessageDigest written = MessageDigest.getInstance("SHA-256");

      // The declared SHA-256 is unknown until the body is made, so the put relies on PartedUpload's
      // per-part MD5s; the read-back digest is compared instead.
      ObjectMeta meta =
          storage
              .put(key, generated(written), PutOptions.of(WriteCondition.IF_ABSENT))
              .block(Duration.ofMinutes(10));

      long size = (long) CHUNKS * CHUNK;
      assertThat(meta.size()).isEqualTo(size);
      ReadResult result = storage.get(key, ReadCondition.NONE).block(Duration.ofMinutes(1));
      assertThat(result).isInstanceOf(ReadResult.Found.class);
      MessageDigest read = MessageDigest.getInstance("SHA-256");
      AtomicLong readSize = new AtomicLong();
      ((ReadResult.Found) result)
          .body()
          .doOnNext(
              buffer -> {
                readSize.addAndGet(buffer.remaining());
                read.update(buffer);
              })
          .then()
          .block(Duration.ofMinutes(10));

      assertThat(readSize).hasValue(size);
      assertThat(HexFormat.of().formatHex(read.digest()))
          .isEqualTo(HexFormat.of().formatHex(written.digest()));
    }
  }

  /** Seeded pseudo-random bytes, one MiB at a time, made only when requested. */
  private static Flux<ByteBuffer> generated(MessageDigest digest) {
    return Flux.<ByteBuffer, Random>generate(
            () -> new Random(1),
            (random, sink) -> {
              byte[] chunk = new byte[CHUNK];
              random.nextBytes(chunk);
              digest.update(chunk);
              sink.next(ByteBuffer.wrap(chunk));
              return random;
            })
        .take(CHUNKS, true);
  }
}
