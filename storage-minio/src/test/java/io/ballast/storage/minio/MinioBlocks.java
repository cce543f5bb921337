package io.ballast.storage.minio;

import io.ballast.config.ConfigLoader;
import io.ballast.config.ConfigNode;
import io.ballast.snapshot.FallbackCpConfig;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.StorageBackends;
import java.net.URI;

/** Builds minio backends the way a node does: from a config file's fallback_cp block. */
final class MinioBlocks {

  static final String FILE = "conf/config.yaml";

  private MinioBlocks() {}

  /** The fallback_cp block of {@code yaml}, a whole config file. */
  static FallbackCpConfig fallbackCp(String yaml) {
    ConfigNode root = ConfigLoader.parse(yaml, FILE, name -> null);
    return FallbackCpConfig.find(root).orElseThrow();
  }

  /** A backend through the installed provider, with {@code extra} lines in its block. */
  static StorageBackend open(URI endpoint, String accessKey, String secretKey, String... extra) {
    StringBuilder yaml =
        new StringBuilder()
            .append("fallback_cp:\n")
            .append("  minio:\n")
            .append("    endpoint: ")
            .append(endpoint)
            .append('\n')
            .append("    access_key: ")
            .append(accessKey)
            .append('\n')
            .append("    secret_key: ")
            .append(secretKey)
            .append('\n')
            .append("    config_bucket: ballast-config\n")
            .append("    resource_bucket: ballast-resources\n");
    for (String line : extra) {
      yaml.append("    ").append(line).append('\n');
    }
    FallbackCpConfig config = fallbackCp(yaml.toString());
    return StorageBackends.open(config.backend(), config.block());
  }
}
