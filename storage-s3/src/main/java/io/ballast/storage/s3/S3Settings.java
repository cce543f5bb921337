package io.ballast.storage.s3;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * How to reach one S3 service, read from the {@code fallback_cp.aws_s3} block by {@link
 * S3StorageProvider}.
 *
 * @param endpoint an S3-compatible server (MinIO, S3Proxy, Ceph …), or {@code null} for AWS itself
 * @param region the signing region
 * @param pathStyle address buckets as {@code endpoint/bucket/key} instead of {@code
 *     bucket.endpoint/key}
 * @param accessKey the static access key id, or {@code null} to use the SDK's default credentials
 *     (environment, profile, IAM role)
 * @param secretKey the static secret key, set exactly when {@code accessKey} is
 * @param timeout the longest one request attempt may take
 */
public record S3Settings(
    URI endpoint,
    String region,
    boolean pathStyle,
    String accessKey,
    String secretKey,
    Duration timeout) {

  public S3Settings {
    Objects.requireNonNull(region, "region");
    Objects.requireNonNull(timeout, "timeout");
    if ((accessKey == null) != (secretKey == null)) {
      throw new IllegalArgumentException("accessKey and secretKey go together");
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive: " + timeout);
    }
  }

  boolean staticCredentials() {
    return accessKey != null;
  }

  /** Names no credential: a record would print the secret key. */
  @Override
  public String toString() {
    return "S3Settings[endpoint="
        + (endpoint == null ? "AWS" : endpoint)
        + ", region="
        + region
        + ", pathStyle="
        + pathStyle
        + ", credentials="
        + (staticCredentials() ? "static keys" : "default provider chain")
        + ", timeout="
        + timeout
        + "]";
  }
}
