package io.ballast.storage.minio;

import io.ballast.storage.AbstractObjectStorageContractTest;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.StorageBackend;
import io.ballast.testkit.S3ProxyServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The storage contract against S3Proxy 4.1.0 (filesystem store, signatures checked). */
class MinioContractTest extends AbstractObjectStorageContractTest {

  private static final String BUCKET = "contract";

  @TempDir static Path dir;

  private static S3ProxyServer server;
  private static StorageBackend backend;
  private static ObjectStorage storage;

  @BeforeAll
  static void start() {
    server = S3ProxyServer.start(dir);
    server.createBucket(BUCKET);
    backend =
        MinioBlocks.open(server.endpoint(), S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
    storage = backend.bucket(BUCKET);
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
