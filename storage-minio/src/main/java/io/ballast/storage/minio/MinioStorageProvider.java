package io.ballast.storage.minio;

import io.ballast.config.ConfigNode;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.StorageProvider;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

/**
 * The {@code fallback_cp.minio} block:
 *
 * <pre>
 * minio:
 *   endpoint: http://minio.internal:9000   # required; http or https, no path
 *   access_key: minioadmin                 # required
 *   secret_key: minio-secret-key           # required
 *   config_bucket: ballast-config
 *   resource_bucket: ballast-resources
 *   region: us-east-1                      # optional; MinIO's default region
 *   timeout: 30s                           # optional; the longest one request may take
 * </pre>
 */
public final class MinioStorageProvider implements StorageProvider {

  static final String NAME = "minio";

  /** MinIO's own default; naming it up front spares a GetBucketLocation request per bucket. */
  static final String DEFAULT_REGION = "us-east-1";

  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private static final Set<String> OWN_KEYS =
      Set.of("endpoint", "access_key", "secret_key", "region", "timeout");

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public StorageBackend create(ConfigNode block) {
    Set<String> allowed = new HashSet<>(StorageProvider.COMMON_BLOCK_KEYS);
    allowed.addAll(OWN_KEYS);
    block.rejectUnknownKeys(allowed);

    URI endpoint = endpoint(block);
    String accessKey = block.requireString("access_key");
    String secretKey = block.requireString("secret_key");
    if (accessKey.isBlank()) {
      throw block.error("access_key", "is empty");
    }
    if (secretKey.isBlank()) {
      throw block.error("secret_key", "is empty");
    }
    String region = block.string("region", DEFAULT_REGION).trim();
    if (region.isEmpty()) {
      throw block.error("region", "is empty; leave it out for " + DEFAULT_REGION);
    }
    Duration timeout = block.duration("timeout", DEFAULT_TIMEOUT);
    if (timeout.isNegative() || timeout.isZero()) {
      throw block.error("timeout", "must be longer than zero");
    }
    try {
      return new MinioBackend(endpoint, region, accessKey, secretKey, timeout);
    } catch (IllegalArgumentException e) {
      // minio-java's own checks of endpoint and region; its messages carry no credentials.
      throw block.error(null, "minio-java refuses these settings: " + e.getMessage());
    }
  }

  private static URI endpoint(ConfigNode block) {
    String text = block.requireString("endpoint").trim();
    if (text.contains("@")) {
      // Checked before the text is echoed in any message: it may carry a password.
      throw block.error("endpoint", "must not carry credentials; use access_key and secret_key");
    }
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      throw block.error("endpoint", "'" + text + "' is not a URL: " + e.getReason());
    }
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equals("http") || scheme.equals("https"))) {
      throw block.error(
          "endpoint", "'" + text + "' must start with http:// or https://, e.g. http://minio:9000");
    }
    if (uri.getHost() == null) {
      throw block.error("endpoint", "'" + text + "' names no host");
    }
    String path = uri.getRawPath();
    if ((path != null && !path.isEmpty() && !path.equals("/"))
        || uri.getRawQuery() != null
        || uri.getRawFragment() != null) {
      throw block.error(
          "endpoint",
          "'"
              + text
              + "' must be scheme, host and port only; buckets are named by config_bucket"
              + " and resource_bucket");
    }
    return uri;
  }
}
