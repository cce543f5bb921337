package io.ballast.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.config.ConfigLoader;
import io.ballast.snapshot.FallbackCpConfig;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.StorageBackends;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The service jar carries every backend: each block name of API7's and Ballast's documentation
 * opens its backend through ServiceLoader, with no I/O.
 */
class InstalledStorageBackendsTest {

  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"aws_s3", "minio", "azure_blob", "filesystem"})
  void everyDocumentedBlockOpensItsBackend(String name) {
    String block =
        switch (name) {
          case "aws_s3" ->
              """
              aws_s3:
                access_key: AKIAIOSFODNN7EXAMPLE
                secret_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
                region: ap-south-1
                config_bucket: api7-fallback-config
                resource_bucket: api7-fallback-resource
              """;
          case "minio" ->
              """
              minio:
                endpoint: http://127.0.0.1:9000
                access_key: minioadmin
                secret_key: minio-secret-key
                config_bucket: ballast-config
                resource_bucket: ballast-resources
              """;
          case "azure_blob" ->
              """
              azure_blob:
                account_name: api7fallback
                account_key: base64key==
                config_container: api7-fallback-config
                resource_container: api7-fallback-resource
                endpoint: https://api7fallback.blob.core.windows.net
              """;
          default ->
              """
              filesystem:
                path: %s
                config_bucket: ballast-config
                resource_bucket: ballast-resources
              """
                  .formatted(tmp);
        };
    String yaml = "fallback_cp:\n" + block.indent(2) + "  cron_spec: '@every 1m'\n";
    FallbackCpConfig config =
        FallbackCpConfig.find(ConfigLoader.parse(yaml, "config.yaml", variable -> null))
            .orElseThrow();

    try (StorageBackend backend = StorageBackends.open(config.backend(), config.block())) {
      assertThat(backend.name()).isEqualTo(name);
      assertThat(backend.bucket(config.resourceBucket()).describe()).isNotBlank();
    }
  }
}
