package io.ballast.storage.s3;

import io.ballast.storage.InvalidStorageConfigException;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.StorageBackend;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * One {@link S3AsyncClient} (Netty) shared by every bucket opened from it, built on the first
 * request: building it loads some two thousand SDK classes, seconds on a busy host, which a data
 * plane starting from its local cache should not wait for before it answers. Building it does no
 * I/O; the credentials of the default provider chain are looked up on the first request.
 */
public final class S3Backend implements StorageBackend {

  /** Attempts per request, the first included: an unreachable server fails in seconds. */
  static final int MAX_ATTEMPTS = 3;

  /** DNS-compatible bucket names, the rule AWS and every S3-compatible server share. */
  private static final Pattern BUCKET_NAME = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

  private static final Duration MAX_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  private final S3Settings settings;
  private final AwsCredentialsProvider credentials;
  private S3AsyncClient client;
  private boolean closed;

  public S3Backend(S3Settings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.credentials = credentials(settings);
  }

  /** The shared client, built by the first caller. */
  private synchronized S3AsyncClient client() {
    if (closed) {
      throw new IllegalStateException(this + " is closed");
    }
    if (client == null) {
      client = client(settings, credentials);
    }
    return client;
  }

  @Override
  public String name() {
    return S3StorageProvider.NAME;
  }

  @Override
  public ObjectStorage bucket(String bucket) {
    Objects.requireNonNull(bucket, "bucket");
    if (!BUCKET_NAME.matcher(bucket).matches()) {
      throw new InvalidStorageConfigException(
          S3StorageProvider.NAME
              + " bucket '"
              + bucket
              + "' is not a valid bucket name (3 to 63 lower-case letters, digits, '.' and '-')");
    }
    return new S3ObjectStorage(this::client, bucket);
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      if (client != null) {
        client.close();
      }
    }
    if (credentials instanceof SdkAutoCloseable closeable) {
      closeable.close();
    }
  }

  @Override
  public String toString() {
    return S3StorageProvider.NAME + ":" + settings;
  }

  private static AwsCredentialsProvider credentials(S3Settings settings) {
    if (settings.staticCredentials()) {
      return StaticCredentialsProvider.create(
          AwsBasicCredentials.create(settings.accessKey(), settings.secretKey()));
    }
    return DefaultCredentialsProvider.builder().build();
  }

  private static S3AsyncClient client(S3Settings settings, AwsCredentialsProvider credentials) {
    Duration timeout = settings.timeout();
    Duration connect = timeout.compareTo(MAX_CONNECT_TIMEOUT) < 0 ? timeout : MAX_CONNECT_TIMEOUT;
    S3AsyncClientBuilder builder =
        S3AsyncClient.builder()
            // Read and write timeouts bound a body that stalls midway, which the attempt timeout
            // does not cover once a streamed response has started.
            .httpClientBuilder(
                NettyNioAsyncHttpClient.builder()
                    .connectionTimeout(connect)
                    .readTimeout(timeout)
                    .writeTimeout(timeout))
            .region(Region.of(settings.region()))
            .credentialsProvider(credentials)
            .forcePathStyle(settings.pathStyle())
            // No CRC trailers (aws-chunked bodies) and no x-amz-checksum-mode on reads: older
            // S3-compatible servers refuse them. Every body carries our own SHA-256 as a plain
            // header the server verifies, and core checks each snapshot's SHA-256 on the way in.
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            .overrideConfiguration(
                o ->
                    o.apiCallAttemptTimeout(timeout)
                        .retryStrategy(retry -> retry.maxAttempts(MAX_ATTEMPTS)));
    if (settings.endpoint() != null) {
      builder.endpointOverride(settings.endpoint());
    }
    return builder.build();
  }
}
