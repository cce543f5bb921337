package io.ballast.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * S3Proxy 4.1.0 on 127.0.0.1, storing objects in a folder (jclouds' filesystem store), checking
 * SigV2/SigV4 signatures against one key pair. It enforces conditional writes, Content-MD5 and
 * {@code x-amz-checksum-*} headers; it does not check the SDK's streamed CRC32 trailers (use {@link
 * S3MockServer} for those). Its data survives {@link #kill()} and {@link #restart()}.
 */
public final class S3ProxyServer extends StorageServer {

  public static final String ACCESS_KEY = "ballast-test-access-key";
  public static final String SECRET_KEY = "ballast-test-secret-key-0123456789";

  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  private final Path data;

  private S3ProxyServer(ServerProcess process, Path data) {
    super(process);
    this.data = data;
  }

  /** Starts a server whose store, configuration and log live under {@code dir}. */
  public static S3ProxyServer start(Path dir) {
    int port = FreePorts.next();
    Path data = dir.resolve("data");
    Path conf = dir.resolve("s3proxy.conf");
    try {
      Files.createDirectories(data);
      Files.writeString(
          conf,
          String.join(
              "\n",
              "s3proxy.endpoint=http://127.0.0.1:" + port,
              "s3proxy.authorization=aws-v2-or-v4",
              "s3proxy.identity=" + ACCESS_KEY,
              "s3proxy.credential=" + SECRET_KEY,
              "jclouds.provider=filesystem",
              "jclouds.filesystem.basedir=" + data.toAbsolutePath(),
              // The AWS SDK's multipart client sends x-amz-mp-object-size, unknown to S3Proxy.
              "s3proxy.ignore-unknown-headers=true",
              ""));
    } catch (IOException e) {
      throw new UncheckedIOException("could not prepare S3Proxy in " + dir, e);
    }
    List<String> command =
        List.of(
            ServerProcess.java(),
            "-Xmx512m",
            "-XX:+UseSerialGC",
            "-jar",
            TestServers.s3proxyJar().toString(),
            "--properties",
            conf.toAbsolutePath().toString());
    return new S3ProxyServer(
        ServerProcess.start(
            "s3proxy", command, dir, dir.resolve("s3proxy.log"), port, READY_TIMEOUT),
        data);
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + process.port());
  }

  /** A bucket is a folder of the filesystem store, so no S3 client is needed to make one. */
  public void createBucket(String name) {
    try {
      Files.createDirectories(data.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException("could not create bucket " + name + " in " + data, e);
    }
  }
}
