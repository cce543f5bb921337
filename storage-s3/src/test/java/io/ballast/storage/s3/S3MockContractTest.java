package io.ballast.storage.s3;

import io.ballast.storage.ObjectStorage;
import io.ballast.storage.WriteCondition;
import io.ballast.testkit.S3MockServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract against Adobe S3Mock 5.2.0, which validates the checksums the SDK sends (headers and
 * trailers) where S3Proxy checks only headers. It accepts any credentials. Its conditional-write
 * races cannot pass (see {@link #serverIsAtomicUnder}).
 */
class S3MockContractTest extends AbstractS3ContractTest {

  private static final String BUCKET = "contract";

  @TempDir static Path dir;

  private static S3MockServer server;
  private static S3Backend backend;

  @BeforeAll
  static void start() {
    server = S3MockServer.start(dir, BUCKET);
    backend =
        new S3Backend(
            new S3Settings(
                server.endpoint(),
                "us-east-1",
                true,
                "any-access-key",
                "any-secret-key",
                Duration.ofSeconds(30)));
  }

  @AfterAll
  static void stop() {
    try (S3MockServer s = server) {
      if (backend != null) {
        backend.close();
      }
    }
  }

  /**
   * S3Mock 5.2.0 deletes the existing object when an upload to its key is aborted (measured: HEAD
   * answers 200 after the refused CompleteMultipartUpload and 404 after AbortMultipartUpload).
   */
  @Override
  protected boolean abortKeepsTheExistingObject() {
    return false;
  }

  /**
   * S3Mock 5.2.0 checks conditions, then writes: 2 of 16 If-Match writers won in one run of four, 3
   * of 16 If-None-Match: * creators in another.
   */
  @Override
  protected boolean serverIsAtomicUnder(WriteCondition condition) {
    return false;
  }

  @Override
  protected ObjectStorage storage() {
    return backend.bucket(BUCKET);
  }
}
