package io.ballast.testkit;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Adobe S3Mock 5.2.0 on 127.0.0.1. Unlike S3Proxy it validates the AWS SDK's streamed checksum
 * trailers, so it is the server for the checksum cases. It accepts any credentials.
 *
 * <p>S3Mock always opens a second plain-HTTP connector, which binds every interface; it is given a
 * free port of its own and lives only as long as the test.
 */
public final class S3MockServer extends StorageServer {

  private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

  private S3MockServer(ServerProcess process) {
    super(process);
  }

  /** Starts a server whose store and log live under {@code dir}, with these buckets made. */
  public static S3MockServer start(Path dir, String... initialBuckets) {
    int port = FreePorts.next();
    List<String> command = new ArrayList<>();
    command.addAll(
        List.of(
            ServerProcess.java(),
            "-Xmx512m",
            "-XX:+UseSerialGC",
            "-jar",
            TestServers.s3mockJar().toString(),
            "--server.ssl.enabled=false",
            "--server.address=127.0.0.1",
            "--server.port=" + port,
            "--com.adobe.testing.s3mock.http-port=" + FreePorts.next(),
            "--com.adobe.testing.s3mock.store.root=" + dir.resolve("data").toAbsolutePath(),
            "--com.adobe.testing.s3mock.store.retain-files-on-exit=true"));
    if (initialBuckets.length > 0) {
      command.add(
          "--com.adobe.testing.s3mock.store.initial-buckets=" + String.join(",", initialBuckets));
    }
    return new S3MockServer(
        ServerProcess.start(
            "s3mock", command, dir, dir.resolve("s3mock.log"), port, READY_TIMEOUT));
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + process.port());
  }
}
