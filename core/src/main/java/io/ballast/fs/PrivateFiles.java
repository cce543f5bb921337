package io.ballast.fs;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
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
    // A folder that is a link (a data dir moved to another disk) is the user's choice: follow it.
    restrict(folder, FOLDER);
    return folder;
  }

  /** Opens a file channel, creating the file 0600 if the options create it. */
  public static FileChannel open(Path file, OpenOption... options) throws IOException {
    FileChannel channel = FileChannel.open(file, Set.of(options), attributes(file));
    // Never through a link: one planted where Ballast writes would have it chmod the file it names.
    restrict(file, FILE, LinkOption.NOFOLLOW_LINKS);
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

  /**
   * Sets {@code permissions} unless they are already set; a mount that refuses is left alone, and
   * so is a link when {@code links} says not to follow it (Linux cannot chmod a link itself).
   */
  private static void restrict(
      Path path, Set<PosixFilePermission> permissions, LinkOption... links) {
    if (!posix(path)) {
      return;
    }
    try {
      PosixFileAttributeView view =
          Files.getFileAttributeView(path, PosixFileAttributeView.class, links);
      if (!view.readAttributes().permissions().equals(permissions)) {
        view.setPermissions(permissions);
      }
    } catch (IOException | UnsupportedOperationException e) {
      log.debug("cannot restrict the permissions of {}: {}", path, e.toString());
    }
  }
}
