package io.ballast.storage.s3;

import io.ballast.snapshot.AbstractExportRaceTest;
import io.ballast.storage.ObjectStorage;
import io.ballast.testkit.S3ProxyServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** Racing exports on S3 through S3Proxy 4.1.0 (filesystem store, SigV4 checked), a process. */
class S3ExportRaceTest extends AbstractExportRaceTest {

  private static final String BUCKET = "race";

  @TempDir static Path dir;

  private static S3ProxyServer server;
  private static S3Backend backend;

  @BeforeAll
  static void start() {
    server = S3ProxyServer.start(dir);
    server.createBucket(BUCKET);
    backend =
        new S3Backend(
            new S3Settings(
                server.endpoint(),
                "us-east-1",
                true,
                S3ProxyServer.ACCESS_KEY,
                S3ProxyServer.SECRET_KEY,
                Duration.ofSeconds(30)));
  }

  @AfterAll
  static void stop() {
    try (S3ProxyServer s = server) {
      if (backend != null) {
        backend.close();
      }
    }
  }

  /** S3Proxy 4.1.0 checks If-Match, then writes: see {@link S3ContractTest}. */
  @Override
  protected boolean serverIsAtomicUnderIfMatch() {
    return false;
  }

  @Override
  protected ObjectStorage storage() {
    return backend.bucket(BUCKET);
  }
}
