package io.ballast.storage.minio;

import io.ballast.storage.ObjectStorage;
import io.ballast.storage.StorageBackend;
import io.minio.MinioAsyncClient;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * One minio-java client for one MinIO (or other S3-compatible) endpoint. Requests are bounded by
 * {@code timeout}: connecting, and every wait to write to or read from the socket, so a hung server
 * fails a call instead of hanging it. A server that trickles bytes more often than that is not cut
 * off: a whole-call limit would also cut off a long download of a large snapshot. minio-java itself
 * does not retry; OkHttp retries a failed connection only while the endpoint has addresses left to
 * try (minio-java turns even that off for streamed bodies), so an unreachable server fails at once.
 */
public final class MinioBackend implements StorageBackend {

  private final String endpoint;
  private final String region;
  private final MinioClient client;

  /** Builds the client; no request is made until a bucket is used. */
  public MinioBackend(
      URI endpoint, String region, String accessKey, String secretKey, Duration timeout) {
    this(
        client(baseUrl(endpoint), region, accessKey, secretKey, timeout),
        baseUrl(endpoint),
        region);
  }

  /** Over a client built elsewhere (tests wrap one to corrupt a request in flight). */
  MinioBackend(MinioClient client, String endpoint, String region) {
    this.client = Objects.requireNonNull(client, "client");
    this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
    this.region = Objects.requireNonNull(region, "region");
  }

  private static String baseUrl(URI endpoint) {
    return endpoint.getScheme()
        + "://"
        + endpoint.getHost()
        + (endpoint.getPort() < 0 ? "" : ":" + endpoint.getPort());
  }

  private static MinioClient client(
      String endpoint, String region, String accessKey, String secretKey, Duration timeout) {
    MinioClient client =
        new MinioClient(
            MinioAsyncClient.builder()
                .endpoint(endpoint)
                .region(region)
                .credentials(accessKey, secretKey)
                .build());
    long millis = timeout.toMillis();
    client.setTimeout(millis, millis, millis);
    return client;
  }

  @Override
  public String name() {
    return MinioStorageProvider.NAME;
  }

  @Override
  public ObjectStorage bucket(String bucket) {
    Objects.requireNonNull(bucket, "bucket");
    return new MinioObjectStorage(client, endpoint, region, bucket);
  }

  @Override
  public void close() {
    try {
      client.close();
    } catch (Exception e) {
      throw new IllegalStateException("closing the minio client of " + endpoint + " failed", e);
    }
  }

  /** Names the endpoint only: the client holds the credentials. */
  @Override
  public String toString() {
    return "minio:" + endpoint;
  }
}
