package io.ballast.storage.minio;

import io.ballast.storage.LargeBodies;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.StorageBackend;
import io.ballast.testkit.S3ProxyServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 1 GiB body of unknown length goes up and comes back intact while the test JVM has a 256 MiB
 * heap (the module's surefire setting): neither direction may hold the body whole.
 */
class OneGibibyteStreamTest {

  private static final ObjectKey KEY = ObjectKey.of("group/resources/snapshots/0001.ndjson.gz");

  @TempDir Path dir;

  @Test
  void oneGibibyteOfUnknownLengthStreamsBothWays() {
    try (S3ProxyServer server = S3ProxyServer.start(dir);
        StorageBackend backend =
            MinioBlocks.open(
                server.endpoint(), S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)) {
      server.createBucket("large");
      LargeBodies.assertRoundTrip(backend.bucket("large"), KEY, 1024, Duration.ofMinutes(20));
    }
  }
}
