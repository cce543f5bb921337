package io.ballast.dataplane;

import io.ballast.fs.DurableFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A disk that is full for one file: the temp file {@link DurableFiles} writes before renaming
 * {@code target} is made a link to {@code /dev/full}, where every write fails with ENOSPC ("No
 * space left on device") from the kernel. The cache's real write path (open, write, fsync) meets a
 * real full-disk error, with no hook in the code under test.
 *
 * <p>Why not the alternatives: a small tmpfs needs root to mount, which CI may not have; a
 * read-only folder does not stop root, which the tests run as; and {@code ulimit -f} limits every
 * file of the process, so it would fail the download as well as the cache (same size), and can only
 * be set on a child process. {@code /dev/full} is on every Linux and needs no privilege.
 */
final class FullDisk {

  static final Path DEVICE = Path.of("/dev/full");

  private FullDisk() {}

  /** Makes the next write of {@code target} fail with ENOSPC; the failed write removes the link. */
  static void at(Path target) throws IOException {
    if (!Files.exists(DEVICE)) {
      throw new IllegalStateException(DEVICE + " does not exist: these tests need Linux");
    }
    Files.createDirectories(target.getParent());
    Files.createSymbolicLink(DurableFiles.tempOf(target), DEVICE);
  }
}
