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
    Path temp = tempOf(target);
    try (FileChannel channel =
            PrivateFiles.open(
                temp,
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024)) {
      content.writeTo(out);
      out.flush();
      channel.force(true);
    }
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    syncDirectory(target.getParent());
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
