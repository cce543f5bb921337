package io.ballast.snapshot;

import io.ballast.fs.PrivateFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** Between files and the storage SPI's byte streams, without holding a body in memory. */
final class ByteStreams {

  private static final int CHUNK = 64 * 1024;
  // Buffers in flight between the network and the disk while downloading.
  private static final int WRITE_PREFETCH = 8;

  private ByteStreams() {}

  /** The content of {@code file} in chunks, read on subscription (again on each). */
  static Flux<ByteBuffer> read(Path file) {
    return Flux.using(
            () -> FileChannel.open(file, StandardOpenOption.READ),
            channel ->
                Flux.<ByteBuffer>generate(
                    sink -> {
                      ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
                      try {
                        if (channel.read(buffer) < 0) {
                          sink.complete();
                        } else {
                          sink.next(buffer.flip());
                        }
                      } catch (IOException e) {
                        sink.error(new UncheckedIOException("cannot read " + file, e));
                      }
                    }),
            ByteStreams::closeQuietly)
        .subscribeOn(Schedulers.boundedElastic());
  }

  /** Writes {@code body} to {@code file}, replacing it. */
  static Mono<Void> write(Flux<ByteBuffer> body, Path file) {
    return Mono.using(
            () ->
                PrivateFiles.open(
                    file,
                    StandardOpenOption.WRITE,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING),
            channel ->
                body.publishOn(Schedulers.boundedElastic(), WRITE_PREFETCH)
                    .doOnNext(
                        buffer -> {
                          try {
                            while (buffer.hasRemaining()) {
                              channel.write(buffer);
                            }
                          } catch (IOException e) {
                            throw new UncheckedIOException("cannot write " + file, e);
                          }
                        })
                    .then(),
            ByteStreams::closeQuietly)
        .subscribeOn(Schedulers.boundedElastic());
  }

  /** The whole of a small object; fails when it is larger than {@code maxBytes}. */
  static Mono<byte[]> collect(Flux<ByteBuffer> body, int maxBytes, String what) {
    return body.collect(
            ByteArrayOutputStream::new,
            (out, buffer) -> {
              if (out.size() + buffer.remaining() > maxBytes) {
                throw new SnapshotFormatException(what + " is larger than " + maxBytes + " bytes");
              }
              byte[] bytes = new byte[buffer.remaining()];
              buffer.get(bytes);
              out.write(bytes, 0, bytes.length);
            })
        .map(ByteArrayOutputStream::toByteArray);
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // Nothing left to do with a channel whose work is over.
    }
  }
}
