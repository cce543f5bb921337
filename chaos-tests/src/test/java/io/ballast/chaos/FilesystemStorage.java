package io.ballast.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/** The embedded default: a folder. */
final class FilesystemStorage implements ClusterStorage {

  private final Path dir;

  FilesystemStorage(Path dir) {
    this.dir = dir;
  }

  /** Creates the folder and its bucket folders, which must exist as S3 buckets must. */
  static FilesystemStorage create(Path dir) {
    try {
      Files.createDirectories(dir.resolve(Configs.CONFIG_BUCKET));
      Files.createDirectories(dir.resolve(Configs.RESOURCE_BUCKET));
    } catch (IOException e) {
      throw new UncheckedIOException("could not create " + dir, e);
    }
    return new FilesystemStorage(dir);
  }

  Path dir() {
    return dir;
  }

  @Override
  public String block() {
    return """
        filesystem:
          path: %s
          config_bucket: %s
          resource_bucket: %s
        """
        .formatted(dir, Configs.CONFIG_BUCKET, Configs.RESOURCE_BUCKET);
  }

  /** The body of the one-file object: everything after the {@code BALLAST-OBJECT} header line. */
  @Override
  public List<String> secrets() {
    return List.of();
  }

  @Override
  public byte[] read(String bucket, String key) {
    Path file = dir.resolve(bucket).resolve(key);
    try {
      byte[] bytes = Files.readAllBytes(file);
      int newline = 0;
      while (bytes[newline] != '\n') {
        newline++;
      }
      return Arrays.copyOfRange(bytes, newline + 1, bytes.length);
    } catch (IOException e) {
      throw new AssertionError("could not read " + file + "\n" + describe(), e);
    }
  }

  @Override
  public String describe() {
    try (Stream<Path> files = Files.walk(dir)) {
      List<String> paths = files.map(Path::toString).toList();
      return "storage " + dir + ":\n" + String.join("\n", paths);
    } catch (IOException e) {
      return "(could not list " + dir + ": " + e + ")";
    }
  }

  @Override
  public void close() {}
}
