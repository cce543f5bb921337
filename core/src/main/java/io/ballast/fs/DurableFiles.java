package io.ballast.fs;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The one way Ballast replaces a file so that a crash leaves either the old content or the new,
 * never a mix, and so that the change survives power loss: write a temp sibling, fsync it, rename
 * it over the target, fsync the directory.
 */
public final class DurableFiles {

  /** Writes the content of a file being replaced. */
  @FunctionalInterface
  public interface Content {
    void writeTo(OutputStream out) throws IOException;
  }

  private DurableFiles() {}

  /** The temp sibling {@link #replace} writes before renaming; left behind only by a crash. */
  public static Path tempOf(Path target) {
    return target.resolveSibling(target.getFileName() + ".tmp");
  }

  public static void replace(Path target, Content content) throws IOException {
    prepare(target, content);
    commit(target);
    syncDirectory(target.getParent());
  }

  /**
   * The first half of {@link #replace}: writes {@code content} to the temp sibling of {@code
   * target} and fsyncs it, leaving {@code target} untouched, so that a caller replacing several
   * files can write them all (where a full disk fails) before renaming any.
   */
  public static void prepare(Path target, Content content) throws IOException {
    try (FileChannel channel =
            PrivateFiles.open(
                tempOf(target),
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024)) {
      content.writeTo(out);
      out.flush();
      channel.force(true);
    }
  }

  /**
   * The second half of {@link #replace}: renames the temp sibling {@link #prepare} wrote over
   * {@code target}. The rename is durable once the caller has synced the directory.
   */
  public static void commit(Path target) throws IOException {
    Files.move(
        tempOf(target),
        target,
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * Makes the directory's entries (a create or a rename) durable. Some platforms (Windows) cannot
   * open a directory; callers that can live with that catch the exception.
   */
  public static void syncDirectory(Path directory) throws IOException {
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }
}
