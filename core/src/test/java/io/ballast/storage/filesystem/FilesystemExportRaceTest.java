package io.ballast.storage.filesystem;

import io.ballast.snapshot.AbstractExportRaceTest;
import io.ballast.storage.ObjectStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** Racing exports on the filesystem backend (a real folder, the backend a mounted volume uses). */
class FilesystemExportRaceTest extends AbstractExportRaceTest {

  @TempDir Path root;

  private ObjectStorage storage;

  @BeforeEach
  void open() throws IOException {
    // The filesystem backend never creates a bucket folder.
    Files.createDirectories(root.resolve("exports"));
    storage = new FilesystemBackend(root).bucket("exports");
  }

  @Override
  protected ObjectStorage storage() {
    return storage;
  }
}
