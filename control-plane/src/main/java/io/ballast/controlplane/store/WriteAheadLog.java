package io.ballast.controlplane.store;

import io.ballast.fs.DurableFiles;
import io.ballast.fs.PrivateFiles;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The append side of {@code wal.ndjson}: every line is on disk before {@link #append} returns. */
final class WriteAheadLog implements Closeable {

  static final String FILE = "wal.ndjson";

  private final FileChannel channel;
  private long entries;

  private WriteAheadLog(FileChannel channel, long entries) {
    this.channel = channel;
    this.entries = entries;
  }

  /** Opens (creating if needed) the log in {@code dir} that already holds {@code entries} lines. */
  static WriteAheadLog open(Path dir, long entries) throws IOException {
    Path file = dir.resolve(FILE);
    boolean created = !Files.exists(file);
    FileChannel channel =
        PrivateFiles.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    if (created) {
      // The file's directory entry must be durable too, or a crash could lose the whole log.
      DurableFiles.syncDirectory(dir);
    }
    return new WriteAheadLog(channel, entries);
  }

  /** Cuts a torn last line (a write a crash interrupted) off the log. */
  static void truncate(Path dir, long size) throws IOException {
    try (FileChannel channel = FileChannel.open(dir.resolve(FILE), StandardOpenOption.WRITE)) {
      channel.truncate(size);
      channel.force(true);
    }
  }

  void append(byte[] line) throws IOException {
    ByteBuffer buffer = ByteBuffer.wrap(line);
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
    channel.force(false);
    entries++;
  }

  /** Empties the log once a checkpoint holds everything it said. */
  void reset() throws IOException {
    channel.truncate(0);
    channel.force(true);
    entries = 0;
  }

  long entries() {
    return entries;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
