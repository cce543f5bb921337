package io.ballast.fs;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way Ballast creates files and folders that hold configuration or secrets: files 0600,
 * folders 0700, so that other users of the host cannot read routes, consumers' keys or TLS keys.
 * Permissions are given at creation (no window in which the file is readable) and tightened on
 * folders and files that an older version left open. Where the file system has no POSIX permissions
 * (Windows, some mounts) nothing is set and nothing fails.
 */
public final class PrivateFiles {

  public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
  public static final Set<PosixFilePermission> FOLDER =
      PosixFilePermissions.fromString("rwx------");

  private static final Logger log = LoggerFactory.getLogger(PrivateFiles.class);
  private static final FileAttribute<?>[] NONE = new FileAttribute<?>[0];

  private PrivateFiles() {}

  /**
   * Creates {@code folder} and its missing parents as 0700, and makes {@code folder} itself 0700 if
   * it already existed (parents that existed are the user's and stay as they are).
   */
  public static Path createFolder(Path folder) throws IOException {
    if (!posix(folder)) {
      return Files.createDirectories(folder);
    }
    Files.createDirectories(folder, PosixFilePermissions.asFileAttribute(FOLDER));
    restrict(folder, FOLDER);
    return folder;
  }

  /** Opens a file channel, creating the file 0600 if the options create it. */
  public static FileChannel open(Path file, OpenOption... options) throws IOException {
    FileChannel channel = FileChannel.open(file, Set.of(options), attributes(file));
    restrict(file, FILE);
    return channel;
  }

  /** Creates or truncates {@code file} (0600) for writing. */
  public static OutputStream newOutputStream(Path file) throws IOException {
    return Channels.newOutputStream(
        open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING));
  }

  /** A new, empty, uniquely named file in {@code folder}, 0600. */
  public static Path createTempFile(Path folder, String prefix, String suffix) throws IOException {
    return Files.createTempFile(folder, prefix, suffix, attributes(folder));
  }

  private static FileAttribute<?>[] attributes(Path path) {
    return posix(path) ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE)} : NONE;
  }

  private static boolean posix(Path path) {
    return path.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  /** Sets {@code permissions} unless they are already set; a mount that refuses is left alone. */
  private static void restrict(Path path, Set<PosixFilePermission> permissions) {
    if (!posix(path)) {
      return;
    }
    try {
      if (!Files.getPosixFilePermissions(path).equals(permissions)) {
        Files.setPosixFilePermissions(path, permissions);
      }
    } catch (IOException | UnsupportedOperationException e) {
      log.debug("cannot restrict the permissions of {}: {}", path, e.toString());
    }
  }
}
