package io.ballast.storage.azure;

import io.ballast.snapshot.AbstractExportRaceTest;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.StorageBackend;
import io.ballast.testkit.AzuriteServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** Racing exports on Azure Blob through a real Azurite, built as a node builds it. */
class AzureExportRaceTest extends AbstractExportRaceTest {

  private static final String CONTAINER = "race";

  @TempDir static Path dir;

  private static AzuriteServer server;
  private static StorageBackend backend;

  @BeforeAll
  static void start() {
    server = AzuriteServer.start(dir);
    AzureTestSupport.createContainer(server, CONTAINER);
    backend = AzureTestSupport.backend(server);
  }

  @AfterAll
  static void stop() {
    try {
      if (backend != null) {
        backend.close();
      }
    } finally {
      if (server != null) {
        server.close();
      }
    }
  }

  @Override
  protected ObjectStorage storage() {
    return backend.bucket(CONTAINER);
  }
}
