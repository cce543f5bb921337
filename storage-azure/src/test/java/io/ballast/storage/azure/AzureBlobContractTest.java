package io.ballast.storage.azure;

import io.ballast.storage.AbstractObjectStorageContractTest;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.StorageBackend;
import io.ballast.testkit.AzuriteServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The storage contract against a real Azurite, through the provider, as a node builds it. */
class AzureBlobContractTest extends AbstractObjectStorageContractTest {

  private static final String CONTAINER = "contract";

  @TempDir static Path dir;

  private static AzuriteServer server;
  private static StorageBackend backend;
  private static ObjectStorage storage;

  @BeforeAll
  static void start() {
    server = AzuriteServer.start(dir);
    AzureTestSupport.createContainer(server, CONTAINER);
    backend = AzureTestSupport.backend(server);
    storage = backend.bucket(CONTAINER);
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
    return storage;
  }
}
