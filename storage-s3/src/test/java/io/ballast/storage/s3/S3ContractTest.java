package io.ballast.storage.s3;

import io.ballast.storage.ObjectStorage;
import io.ballast.storage.WriteCondition;
import io.ballast.testkit.S3ProxyServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract against S3Proxy 4.1.0 (filesystem store, SigV4 checked), a separate process. Its
 * If-None-Match: * race passes; its If-Match race cannot (see {@link #serverIsAtomicUnder}).
 */
class S3ContractTest extends AbstractS3ContractTest {

  private static final String BUCKET = "contract";

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

  /**
   * S3Proxy 4.1.0 (filesystem) checks If-Match, then writes (S3ProxyHandler.handlePutBlob:
   * blobMetadataIfPresent, checkConditionalWrite, putBlob): 2 of 16 racing writers won.
   */
  @Override
  protected boolean serverIsAtomicUnder(WriteCondition condition) {
    return !(condition instanceof WriteCondition.IfMatch);
  }

  @Override
  protected ObjectStorage storage() {
    return backend.bucket(BUCKET);
  }
}
