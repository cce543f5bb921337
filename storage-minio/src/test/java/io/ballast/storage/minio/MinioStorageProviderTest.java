package io.ballast.storage.minio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.config.ConfigException;
import io.ballast.snapshot.FallbackCpConfig;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.StorageBackends;
import org.junit.jupiter.api.Test;

/** The fallback_cp.minio block: what parses, what is refused and how, and that no secret leaks. */
class MinioStorageProviderTest {

  private static final String SECRET = "minio-secret-key";

  /** The block as documented, verbatim. */
  private static final String DOCUMENTED =
      """
      fallback_cp:
        minio:
          endpoint: http://minio.internal:9000
          access_key: minioadmin
          secret_key: minio-secret-key
          config_bucket: ballast-config
          resource_bucket: ballast-resources
        cron_spec: '@every 1m'
      """;

  @Test
  void documentedBlockParsesAndOpensThroughTheServiceLoader() {
    FallbackCpConfig config = MinioBlocks.fallbackCp(DOCUMENTED);

    assertThat(config.backend()).isEqualTo("minio");
    assertThat(config.configBucket()).isEqualTo("ballast-config");
    assertThat(config.resourceBucket()).isEqualTo("ballast-resources");
    try (StorageBackend backend = StorageBackends.open(config.backend(), config.block())) {
      assertThat(backend).isInstanceOf(MinioBackend.class);
      assertThat(backend.name()).isEqualTo("minio");
      assertThat(backend.toString()).isEqualTo("minio:http://minio.internal:9000");
      assertThat(backend.bucket("ballast-config").describe())
          .isEqualTo("minio:http://minio.internal:9000/ballast-config");
    }
  }

  @Test
  void blockUnderDeploymentWithEveryOptionalKeyParses() {
    FallbackCpConfig config =
        MinioBlocks.fallbackCp(
            """
            deployment:
              fallback_cp:
                minio:
                  endpoint: https://minio.internal
                  access_key: minioadmin
                  secret_key: minio-secret-key
                  config_bucket: ballast-config
                  resource_bucket: ballast-resources
                  region: eu-central-1
                  prefix: group-a
                  timeout: 1m30s
            """);

    try (StorageBackend backend = StorageBackends.open(config.backend(), config.block())) {
      assertThat(backend.toString()).isEqualTo("minio:https://minio.internal");
    }
    assertThat(config.prefix()).isEqualTo("group-a");
  }

  @Test
  void missingEndpointIsRefusedNamingTheKey() {
    assertRefused(
        DOCUMENTED.replace("    endpoint: http://minio.internal:9000\n", ""),
        "conf/config.yaml: fallback_cp.minio.endpoint: is required");
  }

  @Test
  void missingAccessKeyIsRefusedNamingTheKey() {
    assertRefused(
        DOCUMENTED.replace("    access_key: minioadmin\n", ""),
        "fallback_cp.minio.access_key: is required");
  }

  @Test
  void missingSecretKeyIsRefusedNamingTheKey() {
    assertRefused(
        DOCUMENTED.replace("    secret_key: minio-secret-key\n", ""),
        "fallback_cp.minio.secret_key: is required");
  }

  @Test
  void unknownKeyIsRefusedNamingItAndTheAllowedKeys() {
    assertRefused(
        DOCUMENTED.replace("    access_key:", "    bucket: ballast\n    access_key:"),
        "fallback_cp.minio.bucket: unknown key; allowed here: access_key, config_bucket");
  }

  @Test
  void bucketAndContainerTogetherAreRefused() {
    assertRefused(
        DOCUMENTED.replace("    config_bucket:", "    config_container: other\n    config_bucket:"),
        "fallback_cp.minio.config_container: set either config_bucket or config_container");
  }

  @Test
  void endpointWithoutSchemeIsRefused() {
    assertRefused(
        DOCUMENTED.replace("http://minio.internal:9000", "minio.internal:9000"),
        "fallback_cp.minio.endpoint: 'minio.internal:9000' must start with http:// or https://");
  }

  @Test
  void endpointWithAPathIsRefused() {
    assertRefused(
        DOCUMENTED.replace("http://minio.internal:9000", "http://minio.internal:9000/ballast"),
        "fallback_cp.minio.endpoint: 'http://minio.internal:9000/ballast' must be scheme, host"
            + " and port only");
  }

  @Test
  void endpointWithCredentialsIsRefusedWithoutEchoingThem() {
    String yaml =
        DOCUMENTED.replace("http://minio.internal:9000", "http://minioadmin:" + SECRET + "@minio");

    assertRefused(yaml, "fallback_cp.minio.endpoint: must not carry credentials");
  }

  @Test
  void zeroOrMalformedTimeoutIsRefused() {
    assertRefused(
        DOCUMENTED.replace("    access_key:", "    timeout: 0s\n    access_key:"),
        "fallback_cp.minio.timeout: must be longer than zero");
    assertRefused(
        DOCUMENTED.replace("    access_key:", "    timeout: soon\n    access_key:"),
        "fallback_cp.minio.timeout: ");
  }

  @Test
  void emptySecretIsRefused() {
    assertRefused(
        DOCUMENTED.replace("secret_key: minio-secret-key", "secret_key: ''"),
        "fallback_cp.minio.secret_key: ");
  }

  @Test
  void noStringOfTheConfigurationShowsTheSecret() {
    FallbackCpConfig config = MinioBlocks.fallbackCp(DOCUMENTED);
    try (StorageBackend backend = StorageBackends.open(config.backend(), config.block())) {
      assertThat(config.toString()).doesNotContain(SECRET);
      assertThat(backend.toString()).doesNotContain(SECRET);
      assertThat(backend.bucket("ballast-config").describe()).doesNotContain(SECRET);
      assertThat(backend.bucket("ballast-config").toString()).doesNotContain(SECRET);
    }
  }

  private static void assertRefused(String yaml, String message) {
    assertThatThrownBy(
            () -> {
              FallbackCpConfig config = MinioBlocks.fallbackCp(yaml);
              StorageBackends.open(config.backend(), config.block()).close();
            })
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(message)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(SECRET));
  }
}
