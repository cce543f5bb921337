package io.ballast.chaos;

import io.ballast.testkit.FaultProxy;
import io.ballast.testkit.S3ProxyServer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * S3 through S3Proxy, configured with API7's {@code aws_s3} block plus {@code endpoint}. With a
 * {@link FaultProxy}, nodes reach the server through it (and give up on a request after 2 s), so a
 * test can make storage fail, hang or reset while the test's own client still reads directly.
 */
final class S3ProxyStorage implements ClusterStorage {

  private final S3ProxyServer server;
  private final FaultProxy faults;
  private final S3AsyncClient client;
  private final boolean controlPlaneDirect;

  private S3ProxyStorage(S3ProxyServer server, FaultProxy faults, boolean controlPlaneDirect) {
    this.server = server;
    this.faults = faults;
    this.controlPlaneDirect = controlPlaneDirect;
    this.client =
        S3AsyncClient.builder()
            .endpointOverride(server.endpoint())
            .forcePathStyle(true)
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)))
            .build();
  }

  static S3ProxyStorage start(Path dir) {
    return new S3ProxyStorage(startServer(dir), null, false);
  }

  static S3ProxyStorage startBehindFaultProxy(Path dir) {
    S3ProxyServer server = startServer(dir);
    return new S3ProxyStorage(server, FaultProxy.start(server.port()), false);
  }

  /**
   * Data planes reach the server through the fault proxy, control planes directly: the faults are
   * between storage and the DPs, and the proxy counts only the DPs' requests.
   */
  static S3ProxyStorage startBehindFaultProxyForDataPlanes(Path dir) {
    S3ProxyServer server = startServer(dir);
    return new S3ProxyStorage(server, FaultProxy.start(server.port()), true);
  }

  private static S3ProxyServer startServer(Path dir) {
    S3ProxyServer server = S3ProxyServer.start(dir);
    server.createBucket(Configs.CONFIG_BUCKET);
    server.createBucket(Configs.RESOURCE_BUCKET);
    return server;
  }

  /** The proxy between the nodes and the server. */
  FaultProxy faults() {
    if (faults == null) {
      throw new IllegalStateException("this storage was started without a fault proxy");
    }
    return faults;
  }

  S3ProxyServer server() {
    return server;
  }

  @Override
  public String block() {
    return block(faults == null ? server.endpoint() : faults.endpoint());
  }

  @Override
  public String controlPlaneBlock() {
    return controlPlaneDirect ? block(server.endpoint()) : block();
  }

  /** The client used by the tests to read (and to change) what is stored, directly. */
  S3AsyncClient client() {
    return client;
  }

  private String block(java.net.URI endpoint) {
    return """
        aws_s3:
          access_key: %s
          secret_key: %s
          region: us-east-1
          config_bucket: %s
          resource_bucket: %s
          endpoint: %s
        """
            .formatted(
                S3ProxyServer.ACCESS_KEY,
                S3ProxyServer.SECRET_KEY,
                Configs.CONFIG_BUCKET,
                Configs.RESOURCE_BUCKET,
                endpoint)
        + (endpoint.equals(server.endpoint()) ? "" : "  timeout: 2s\n");
  }

  @Override
  public List<String> secrets() {
    return List.of(S3ProxyServer.SECRET_KEY);
  }

  @Override
  public byte[] read(String bucket, String key) {
    try {
      return client
          .getObject(b -> b.bucket(bucket).key(key), AsyncResponseTransformer.toBytes())
          .join()
          .asByteArray();
    } catch (CompletionException e) {
      throw new AssertionError("could not read s3://" + bucket + "/" + key + "\n" + describe(), e);
    }
  }

  @Override
  public String describe() {
    StringBuilder out = new StringBuilder("S3Proxy " + server + ":\n");
    for (String bucket : new String[] {Configs.CONFIG_BUCKET, Configs.RESOURCE_BUCKET}) {
      try {
        out.append(
            client.listObjectsV2(b -> b.bucket(bucket)).join().contents().stream()
                .map(S3Object::key)
                .map(key -> "s3://" + bucket + "/" + key)
                .collect(Collectors.joining("\n", "", "\n")));
      } catch (CompletionException e) {
        out.append("(could not list ").append(bucket).append(": ").append(e.getCause());
      }
    }
    return out + server.describeLog(20);
  }

  @Override
  public void close() {
    client.close();
    if (faults != null) {
      faults.close();
    }
    server.close();
  }
}
