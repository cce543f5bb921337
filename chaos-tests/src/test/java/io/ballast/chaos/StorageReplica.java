package io.ballast.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;

/**
 * Storage as the data planes see it, copied by the test from the folder a control plane exports to:
 * the test decides when the pointer moves and what the objects hold, so it can serve a corrupted or
 * truncated body, a pointer without its body, an older pointer, or a pointer frozen in time. Both
 * sides are the filesystem backend, one file per object: a {@code BALLAST-OBJECT} header line, then
 * the body. Every file is replaced atomically, so a reader sees a whole object.
 */
final class StorageReplica {

  /** The export pointer of the default gateway group, in the resource bucket. */
  static final String POINTER = Configs.RESOURCE_BUCKET + "/default/latest.json";

  private final Path source;
  private final Path target;

  StorageReplica(FilesystemStorage source, FilesystemStorage target) {
    this.source = source.dir();
    this.target = target.dir();
  }

  /** Copies every object but the pointer, then the pointer: what a whole export looks like. */
  void copyAll() {
    copyBodies();
    copyPointer();
  }

  /** Copies every object but the pointer (bodies are immutable; existing ones are kept). */
  void copyBodies() {
    for (String key : objects(source)) {
      if (!key.equals(POINTER) && !Files.exists(target.resolve(key))) {
        put(key, read(source, key));
      }
    }
  }

  void copyPointer() {
    put(POINTER, read(source, POINTER));
  }

  /** The pointer's whole file (header and manifest) as storage holds it now. */
  byte[] pointerFile() {
    return read(target, POINTER);
  }

  /** Puts back a pointer file saved with {@link #pointerFile()}. */
  void restorePointer(byte[] file) {
    put(POINTER, file);
  }

  /** The manifest the DPs' pointer holds now. */
  JsonNode pointer() {
    return Http.parse(new String(body(read(target, POINTER)), StandardCharsets.UTF_8));
  }

  /** The version of the export the CP's own storage names now. */
  long sourceVersion() {
    byte[] file = read(source, POINTER);
    return Http.parse(new String(body(file), StandardCharsets.UTF_8)).path("version").asLong();
  }

  /**
   * The key of the source's resources body of {@code version}, in the resource bucket: {@code
   * <20-digit version>-<its SHA-256>.ndjson.gz}.
   */
  private String resourcesBody(long version) {
    String prefix =
        Configs.RESOURCE_BUCKET + "/default/resources/snapshots/%020d-".formatted(version);
    List<String> bodies = objects(source).stream().filter(key -> key.startsWith(prefix)).toList();
    if (bodies.size() != 1) {
      throw new IllegalStateException(
          "expected one resources body of version " + version + " in the source, found " + bodies);
    }
    return bodies.get(0);
  }

  /** Copies the source's pointer, with every body but the resources body of its version. */
  long copyPointerWithoutItsBody() {
    long version = sourceVersion();
    String missing = resourcesBody(version);
    for (String key : objects(source)) {
      if (!key.equals(POINTER) && !key.equals(missing) && !Files.exists(target.resolve(key))) {
        put(key, read(source, key));
      }
    }
    copyPointer();
    return version;
  }

  /** Copies the resources body of {@code version} with one bit of its middle byte flipped. */
  void putCorrupted(long version) {
    byte[] file = read(source, resourcesBody(version));
    int start = headerLength(file);
    file[start + (file.length - start) / 2] ^= 0x01;
    put(resourcesBody(version), file);
  }

  /** Copies the resources body of {@code version} cut to half its length. */
  void putTruncated(long version) {
    byte[] file = read(source, resourcesBody(version));
    int start = headerLength(file);
    put(resourcesBody(version), Arrays.copyOf(file, start + (file.length - start) / 2));
  }

  /** Copies the good resources body of {@code version} over whatever the target holds. */
  void putGood(long version) {
    put(resourcesBody(version), read(source, resourcesBody(version)));
  }

  private static List<String> objects(Path root) {
    try (Stream<Path> files = Files.walk(root)) {
      return files
          .filter(Files::isRegularFile)
          .map(file -> root.relativize(file).toString())
          .filter(key -> !key.contains(".ballast"))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("could not list " + root, e);
    }
  }

  private static byte[] read(Path root, String key) {
    Path file = root.resolve(key);
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new AssertionError("could not read " + file, e);
    }
  }

  private void put(String key, byte[] file) {
    Path destination = target.resolve(key);
    try {
      Files.createDirectories(destination.getParent());
      Path temporary = Files.createTempFile(target, ".replica", ".tmp");
      Files.write(temporary, file);
      Files.move(
          temporary,
          destination,
          StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("could not write " + destination, e);
    }
  }

  private static int headerLength(byte[] file) {
    int newline = 0;
    while (newline < file.length && file[newline] != '\n') {
      newline++;
    }
    assertThat(new String(file, 0, Math.min(newline, 14), StandardCharsets.US_ASCII))
        .as("object header")
        .isEqualTo("BALLAST-OBJECT");
    return newline + 1;
  }

  private static byte[] body(byte[] file) {
    return Arrays.copyOfRange(file, headerLength(file), file.length);
  }
}
