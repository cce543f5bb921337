package io.ballast.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.WriteCondition;
import io.ballast.testkit.S3ProxyServer;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

/**
 * A 1 GiB body of unknown length goes up and comes back intact while the test JVM has a 256 MiB
 * heap (the module's surefire setting): neither direction may hold the body whole.
 */
class OneGibibyteStreamTest {

  private static final int MIB = 1024 * 1024;
  private static final int CHUNKS = 1024;

  @TempDir Path dir;

  @Test
  void oneGibibyteOfUnknownLengthStreamsBothWays() {
    try (S3ProxyServer server = S3ProxyServer.start(dir);
        S3Backend backend =
            new S3Backend(
                new S3Settings(
                    server.endpoint(),
                    "us-east-1",
                    true,
                    S3ProxyServer.ACCESS_KEY,
                    S3ProxyServer.SECRET_KEY,
                    Duration.ofSeconds(60)))) {
      server.createBucket("large");
      ObjectKey key = ObjectKey.of("group/resources/snapshots/0001.ndjson.gz");
      MessageDigest written = sha256();

      ObjectMeta meta =
          backend
              .bucket("large")
              .put(key, generated(written), PutOptions.of(WriteCondition.IF_ABSENT))
              .block(Duration.ofMinutes(20));
      String writtenHex = HexFormat.of().formatHex(written.digest());

      assertThat(meta.size()).isEqualTo((long) CHUNKS * MIB);
      ReadResult result =
          backend.bucket("large").get(key, ReadCondition.NONE).block(Duration.ofMinutes(1));
      assertThat(result).isInstanceOf(ReadResult.Found.class);
      MessageDigest read = sha256();
      AtomicLong readSize = new AtomicLong();
      ((ReadResult.Found) result)
          .body()
          .doOnNext(
              buffer -> {
                readSize.addAndGet(buffer.remaining());
                read.update(buffer);
              })
          .blockLast(Duration.ofMinutes(20));
      assertThat(readSize).hasValue((long) CHUNKS * MIB);
      assertThat(HexFormat.of().formatHex(read.digest())).isEqualTo(writtenHex);
    }
  }

  /** Seeded pseudo-random MiB chunks, each made only when requested. */
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

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
