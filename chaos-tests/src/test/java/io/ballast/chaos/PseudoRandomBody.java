package io.ballast.chaos;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import reactor.core.publisher.Flux;

/**
 * A body of any length whose bytes are pseudo-random but the same on every run: chunk {@code i} is
 * drawn from a generator seeded with {@code i}, so a sender makes one chunk at a time and a
 * receiver checks the whole body by its CRC32 without either ever holding it.
 */
final class PseudoRandomBody {

  static final int CHUNK_SIZE = 64 * 1024;

  private PseudoRandomBody() {}

  /** The body, {@value #CHUNK_SIZE} bytes per buffer (the last one shorter), made on demand. */
  static Flux<ByteBuf> of(long length) {
    long chunks = (length + CHUNK_SIZE - 1) / CHUNK_SIZE;
    return Flux.range(0, Math.toIntExact(chunks))
        .map(index -> Unpooled.wrappedBuffer(chunk(index, length)));
  }

  /** The CRC32 of {@link #of(long) of(length)}, computed chunk by chunk. */
  static long crc32(long length) {
    CRC32 crc = new CRC32();
    long chunks = (length + CHUNK_SIZE - 1) / CHUNK_SIZE;
    for (int index = 0; index < chunks; index++) {
      crc.update(chunk(index, length));
    }
    return crc.getValue();
  }

  /** Adds the readable bytes of {@code buf} to {@code crc} without moving its reader index. */
  static void update(CRC32 crc, ByteBuf buf) {
    for (ByteBuffer part : buf.nioBuffers()) {
      crc.update(part);
    }
  }

  private static byte[] chunk(int index, long length) {
    long start = (long) index * CHUNK_SIZE;
    byte[] bytes = new byte[(int) Math.min(CHUNK_SIZE, length - start)];
    new SplittableRandom(index).nextBytes(bytes);
    return bytes;
  }
}
