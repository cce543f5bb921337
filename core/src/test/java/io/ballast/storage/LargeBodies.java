package io.ballast.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;

/**
 * A large body of unknown length, generated a MiB at a time as it is requested, sent through a
 * storage and read back: size and SHA-256 must match. Run in a small heap, it shows that neither
 * direction holds the body whole.
 */
public final class LargeBodies {

  private static final int MIB = 1024 * 1024;

  private LargeBodies() {}

  /** Puts {@code mebibytes} MiB under {@code key} (If-None-Match *) and reads them back. */
  public static void assertRoundTrip(
      ObjectStorage storage, ObjectKey key, int mebibytes, Duration timeout) {
    MessageDigest written = sha256();
    long size = (long) mebibytes * MIB;

    ObjectMeta meta =
        storage
            .put(key, generated(mebibytes, written), PutOptions.of(WriteCondition.IF_ABSENT))
            .block(timeout);

    assertThat(meta.size()).isEqualTo(size);
    ReadResult result = storage.get(key, ReadCondition.NONE).block(timeout);
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
        .then()
        .block(timeout);
    assertThat(readSize).hasValue(size);
    assertThat(read.digest()).isEqualTo(written.digest());
  }

  /** Seeded pseudo-random MiB chunks, each made only when requested. */
  private static Flux<ByteBuffer> generated(int chunks, MessageDigest digest) {
    return Flux.<ByteBuffer, Random>generate(
            () -> new Random(42),
            (random, sink) -> {
              byte[] chunk = new byte[MIB];
              random.nextBytes(chunk);
              digest.update(chunk);
              sink.next(ByteBuffer.wrap(chunk));
              return random;
            })
        .take(chunks, true);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
