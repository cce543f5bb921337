package io.ballast.storage.s3;

import io.ballast.config.ConfigNode;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.StorageProvider;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code fallback_cp.aws_s3} block, with API7's keys. On AWS:
 *
 * <pre>{@code
 * fallback_cp:
 *   aws_s3:
 *     access_key: AKIAIOSFODNN7EXAMPLE      # with secret_key; leave both out to use the SDK's
 *     secret_key: wJalrXUtnFEMI/K7MDENG/... # default credentials (env, profile, IAM role)
 *     region: ap-south-1
 *     config_bucket: api7-fallback-config
 *     resource_bucket: api7-fallback-resource
 *     prefix: prod                          # optional, in both buckets
 *     timeout: 30s                          # optional: the longest one request may take
 *   cron_spec: '@every 1m'
 * }</pre>
 *
 * <p>On an S3-compatible server (MinIO, Ceph, S3Proxy) add {@code endpoint: http://127.0.0.1:9000}
 * (API7's gateway file) or {@code custom_endpoint: ...} (API7's dashboard file); they mean the
 * same. With an endpoint, {@code region} defaults to {@code us-east-1} and {@code use_path_style}
 * to {@code true}; without one, {@code region} is required and {@code use_path_style} defaults to
 * {@code false}.
 */
public final class S3StorageProvider implements StorageProvider {

  static final String NAME = "aws_s3";

  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /** The region signed for when an endpoint is given and no region: what such servers expect. */
  static final String ENDPOINT_DEFAULT_REGION = "us-east-1";

  private static final Set<String> OWN_KEYS =
      Set.of(
          "access_key",
          "secret_key",
          "region",
          "endpoint",
          "custom_endpoint",
          "use_path_style",
          "timeout");

  private static final Pattern REGION = Pattern.compile("[a-z0-9]+(-[a-z0-9]+)*");

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public StorageBackend create(ConfigNode block) {
    return new S3Backend(settings(block));
  }

  /** Reads and checks the block; does no I/O. */
  static S3Settings settings(ConfigNode block) {
    Set<String> allowed = new HashSet<>(StorageProvider.COMMON_BLOCK_KEYS);
    allowed.addAll(OWN_KEYS);
    block.rejectUnknownKeys(allowed);

    URI endpoint = endpoint(block);
    String region =
        endpoint == null
            ? block.requireString("region")
            : block.string("region").orElse(ENDPOINT_DEFAULT_REGION);
    if (!REGION.matcher(region).matches()) {
      throw block.error("region", "'" + region + "' is not a region name such as ap-south-1");
    }
    boolean pathStyle = block.bool("use_path_style", endpoint != null);

    boolean hasAccessKey = block.has("access_key");
    boolean hasSecretKey = block.has("secret_key");
    if (hasAccessKey != hasSecretKey) {
      String missing = hasAccessKey ? "secret_key" : "access_key";
      throw block.error(
          missing,
          "is required with "
              + (hasAccessKey ? "access_key" : "secret_key")
              + "; set both, or neither to use the default credentials (environment, profile, IAM"
              + " role)");
    }
    String accessKey = hasAccessKey ? block.requireString("access_key") : null;
    String secretKey = hasSecretKey ? block.requireString("secret_key") : null;

    Duration timeout = block.duration("timeout", DEFAULT_TIMEOUT);
    if (timeout.isNegative() || timeout.isZero()) {
      throw block.error("timeout", "must be longer than zero");
    }
    return new S3Settings(endpoint, region, pathStyle, accessKey, secretKey, timeout);
  }

  /** {@code endpoint} or {@code custom_endpoint}: API7 uses one name in each of its two files. */
  private static URI endpoint(ConfigNode block) {
    String endpoint = block.string("endpoint").orElse(null);
    String custom = block.string("custom_endpoint").orElse(null);
    if (endpoint != null && custom != null && !endpoint.trim().equals(custom.trim())) {
      throw block.error(
          "custom_endpoint",
          "is '"
              + custom
              + "' but endpoint is '"
              + endpoint
              + "'; endpoint and custom_endpoint mean the same, set one of them");
    }
    String key = endpoint != null ? "endpoint" : "custom_endpoint";
    String text = endpoint != null ? endpoint : custom;
    if (text == null) {
      return null;
    }
    text = text.trim();
    try {
      URI uri = new URI(text);
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
          || uri.getHost() == null) {
        throw block.error(key, "'" + text + "' is not an http:// or https:// URL with a host");
      }
      if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getUserInfo() != null) {
        throw block.error(key, "'" + text + "' must have no user, query or fragment");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw block.error(key, "'" + text + "' is not a URL: " + e.getReason());
    }
  }
}
