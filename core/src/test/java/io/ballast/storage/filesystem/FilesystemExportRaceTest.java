package io.ballast.storage.filesystem;

import io.ballast.snapshot.AbstractExportRaceTest;
import io.ballast.storage.ObjectStorage;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** Racing exports on the filesystem backend (a real folder, the backend a mounted volume uses). */
class FilesystemExportRaceTest extends AbstractExportRaceTest {

  @TempDir Path root;

  private ObjectStorage storage;

  @BeforeEach
  void open() {
    storage = new FilesystemBackend(root).bucket("exports");
  }

  @Override
  protected ObjectStorage storage() {
    return storage;
  }
}
