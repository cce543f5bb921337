package io.ballast.fs;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.storage.ObjectKey;
import io.ballast.storage.PutOptions;
import io.ballast.storage.WriteCondition;
import io.ballast.storage.filesystem.FilesystemBackend;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

/** Runs where the file system has POSIX permissions, as on every Linux build. */
class PrivateFilesTest {

  @TempDir Path dir;

  @Test
  void newFoldersAre0700AndAnOpenExistingOneIsTightened() throws IOException {
    Path nested = PrivateFiles.createFolder(dir.resolve("a/b"));
    Path open = Files.createDirectories(dir.resolve("open"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));

    PrivateFiles.createFolder(open);

    assertThat(Files.getPosixFilePermissions(nested)).isEqualTo(PrivateFiles.FOLDER);
    assertThat(Files.getPosixFilePermissions(dir.resolve("a"))).isEqualTo(PrivateFiles.FOLDER);
    assertThat(Files.getPosixFilePermissions(open)).isEqualTo(PrivateFiles.FOLDER);
  }

  @Test
  void filesAre0600WhetherNewReplacedOrLeftOpenBefore() throws IOException {
    Path replaced = dir.resolve("replaced");
    DurableFiles.replace(replaced, out -> out.write('x'));
    Path written = dir.resolve("written");
    try (var out = PrivateFiles.newOutputStream(written)) {
      out.write('x');
    }
    Path temp = PrivateFiles.createTempFile(dir, "t-", ".tmp");
    Path old = Files.writeString(dir.resolve("old"), "x");
    Files.setPosixFilePermissions(old, PosixFilePermissions.fromString("rw-r--r--"));
    PrivateFiles.open(old, java.nio.file.StandardOpenOption.APPEND).close();

    for (Path file : List.of(replaced, written, temp, old)) {
      assertThat(Files.getPosixFilePermissions(file))
          .as(file.toString())
          .isEqualTo(PrivateFiles.FILE);
    }
  }

  @Test
  void aFileOpenedThroughALinkLeavesThePermissionsOfTheFileItNames() throws IOException {
    Path shared = Files.writeString(dir.resolve("shared"), "x");
    Set<PosixFilePermission> open = PosixFilePermissions.fromString("rw-r--r--");
    Files.setPosixFilePermissions(shared, open);
    Path link = Files.createSymbolicLink(dir.resolve("link"), shared);

    PrivateFiles.open(link, java.nio.file.StandardOpenOption.APPEND).close();

    assertThat(Files.getPosixFilePermissions(shared)).isEqualTo(open);
  }

  @Test
  void theFilesystemBackendWritesPrivateObjectsInPrivateFolders() throws IOException {
    PrivateFiles.createFolder(dir.resolve("storage").resolve("resources"));
    FilesystemBackend backend = new FilesystemBackend(dir.resolve("storage"));
    backend
        .bucket("resources")
        .put(
            ObjectKey.of("default/resources/snapshots/1.ndjson.gz"),
            Flux.just(ByteBuffer.wrap("body".getBytes(StandardCharsets.UTF_8))),
            PutOptions.of(WriteCondition.NONE))
        .block();

    try (Stream<Path> all = Files.walk(dir.resolve("storage"))) {
      for (Path path : all.toList()) {
        assertThat(Files.getPosixFilePermissions(path))
            .as(path.toString())
            .isEqualTo(Files.isDirectory(path) ? PrivateFiles.FOLDER : PrivateFiles.FILE);
      }
    }
  }
}
