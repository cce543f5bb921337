package io.ballast.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigLoader;
import io.ballast.config.ConfigNode;
import io.ballast.snapshot.FallbackCpConfig;
import io.ballast.storage.InvalidStorageConfigException;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.StorageBackends;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class S3StorageProviderTest {

  private static final String FILE = "conf/config.yaml";
  private static final String SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

  /** API7's dashboard (control plane) file, verbatim. */
  private static final String API7_DASHBOARD =
      """
      fallback_cp:
        aws_s3:
          access_key: AKIAIOSFODNN7EXAMPLE
          secret_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
          region: ap-south-1
          config_bucket: api7-fallback-config
          resource_bucket: api7-fallback-resource
        cron_spec: '@every 1m'
      """;

  /** API7's gateway (data plane) file, with an S3-compatible endpoint. */
  private static final String API7_GATEWAY =
      """
      deployment:
        role: data_plane
        role_data_plane:
          config_provider: yaml
        fallback_cp:
          aws_s3:
            access_key: AKIAIOSFODNN7EXAMPLE
            secret_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
            region: ap-south-1
            endpoint: http://127.0.0.1:9000
            config_bucket: api7-fallback-config
            resource_bucket: api7-fallback-resource
      """;

  /** API7's dashboard file with its name for the endpoint. */
  private static final String API7_DASHBOARD_CUSTOM_ENDPOINT =
      """
      fallback_cp:
        aws_s3:
          access_key: AKIAIOSFODNN7EXAMPLE
          secret_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
          region: ap-south-1
          custom_endpoint: http://127.0.0.1:9000
          config_bucket: api7-fallback-config
          resource_bucket: api7-fallback-resource
        cron_spec: '@every 1m'
      """;

  private static FallbackCpConfig fallbackCp(String yaml) {
    return FallbackCpConfig.find(ConfigLoader.parse(yaml, FILE, name -> null)).orElseThrow();
  }

  /** A dashboard-style file whose aws_s3 block holds the buckets plus {@code keys}. */
  private static ConfigNode block(String keys) {
    String yaml =
        "fallback_cp:\n  aws_s3:\n    config_bucket: c-bucket\n    resource_bucket: r-bucket\n"
            + keys.lines().map(line -> "    " + line + "\n").reduce("", String::concat);
    return fallbackCp(yaml).block();
  }

  private static S3Settings settings(String keys) {
    return S3StorageProvider.settings(block(keys));
  }

  @Test
  void api7DashboardBlockParsesVerbatim() {
    FallbackCpConfig config = fallbackCp(API7_DASHBOARD);
    S3Settings settings = S3StorageProvider.settings(config.block());

    assertThat(config.backend()).isEqualTo("aws_s3");
    assertThat(config.configBucket()).isEqualTo("api7-fallback-config");
    assertThat(config.resourceBucket()).isEqualTo("api7-fallback-resource");
    assertThat(settings)
        .isEqualTo(
            new S3Settings(
                null,
                "ap-south-1",
                false,
                "AKIAIOSFODNN7EXAMPLE",
                SECRET,
                S3StorageProvider.DEFAULT_TIMEOUT));
  }

  @Test
  void api7GatewayBlockWithEndpointParsesVerbatim() {
    FallbackCpConfig config = fallbackCp(API7_GATEWAY);
    S3Settings settings = S3StorageProvider.settings(config.block());

    assertThat(config.block().path()).isEqualTo("deployment.fallback_cp.aws_s3");
    assertThat(settings.endpoint()).isEqualTo(URI.create("http://127.0.0.1:9000"));
    assertThat(settings.region()).isEqualTo("ap-south-1");
    assertThat(settings.pathStyle()).isTrue();
  }

  @Test
  void api7DashboardCustomEndpointMeansTheSame() {
    S3Settings custom =
        S3StorageProvider.settings(fallbackCp(API7_DASHBOARD_CUSTOM_ENDPOINT).block());
    S3Settings endpoint = S3StorageProvider.settings(fallbackCp(API7_GATEWAY).block());

    assertThat(custom).isEqualTo(endpoint);
  }

  @Test
  void everyKeySetGivesTheExpectedSettings() {
    S3Settings settings =
        settings(
            """
            access_key: AK
            secret_key: SK
            region: eu-west-1
            endpoint: https://s3.example.com:8443/
            custom_endpoint: https://s3.example.com:8443/
            use_path_style: false
            timeout: 1m30s
            prefix: prod/eu
            """);

    assertThat(settings)
        .isEqualTo(
            new S3Settings(
                URI.create("https://s3.example.com:8443/"),
                "eu-west-1",
                false,
                "AK",
                "SK",
                Duration.ofSeconds(90)));
  }

  @Test
  void withoutKeysTheDefaultCredentialsAreUsedAndAnEndpointDefaultsTheRegion() {
    S3Settings settings = settings("endpoint: http://minio:9000");

    assertThat(settings.staticCredentials()).isFalse();
    assertThat(settings.accessKey()).isNull();
    assertThat(settings.region()).isEqualTo("us-east-1");
    assertThat(settings.pathStyle()).isTrue();
    assertThat(settings.timeout()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void regionIsRequiredWithoutEndpoint() {
    assertThatThrownBy(() -> settings("access_key: AK\nsecret_key: SK"))
        .isInstanceOf(ConfigException.class)
        .hasMessage(FILE + ": fallback_cp.aws_s3.region: is required");
  }

  @Test
  void oneKeyWithoutTheOtherIsRefusedNamingTheMissingOne() {
    assertThatThrownBy(() -> settings("region: ap-south-1\naccess_key: AK"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(
            FILE + ": fallback_cp.aws_s3.secret_key: is required with access_key");
    assertThatThrownBy(() -> settings("region: ap-south-1\nsecret_key: " + SECRET))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(
            FILE + ": fallback_cp.aws_s3.access_key: is required with secret_key")
        .hasMessageNotContaining(SECRET);
  }

  @Test
  void differentEndpointAndCustomEndpointAreRefusedNamingBoth() {
    assertThatThrownBy(
            () ->
                settings("endpoint: http://127.0.0.1:9000\ncustom_endpoint: http://127.0.0.1:9001"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(FILE + ": fallback_cp.aws_s3.custom_endpoint: ")
        .hasMessageContaining("endpoint is 'http://127.0.0.1:9000'")
        .hasMessageContaining("http://127.0.0.1:9001");
  }

  @Test
  void unknownKeyIsRefusedNamingIt() {
    assertThatThrownBy(() -> settings("region: ap-south-1\nsecret_access_key: x"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(FILE + ": fallback_cp.aws_s3.secret_access_key: unknown key")
        .hasMessageContaining("custom_endpoint");
  }

  @Test
  void malformedValuesAreRefusedNamingTheKey() {
    assertThatThrownBy(() -> settings("endpoint: 127.0.0.1:9000"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(FILE + ": fallback_cp.aws_s3.endpoint: ");
    assertThatThrownBy(() -> settings("custom_endpoint: ftp://host"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(FILE + ": fallback_cp.aws_s3.custom_endpoint: ");
    assertThatThrownBy(() -> settings("region: Mumbai"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(FILE + ": fallback_cp.aws_s3.region: ");
    assertThatThrownBy(() -> settings("region: ap-south-1\nuse_path_style: yes please"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(FILE + ": fallback_cp.aws_s3.use_path_style: ");
    assertThatThrownBy(() -> settings("region: ap-south-1\ntimeout: 0s"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(FILE + ": fallback_cp.aws_s3.timeout: ");
    assertThatThrownBy(() -> settings("region: ap-south-1\ntimeout: soon"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(FILE + ": fallback_cp.aws_s3.timeout: ");
  }

  @Test
  void noDescriptionContainsTheSecret() {
    S3Settings settings = S3StorageProvider.settings(fallbackCp(API7_DASHBOARD).block());
    assertThat(settings.toString()).doesNotContain(SECRET).contains("ap-south-1");
    assertThat(fallbackCp(API7_DASHBOARD).toString()).doesNotContain(SECRET);
    try (StorageBackend backend = new S3Backend(settings)) {
      assertThat(backend.toString()).doesNotContain(SECRET);
      assertThat(backend.bucket("api7-fallback-config").describe())
          .isEqualTo("aws_s3 bucket 'api7-fallback-config'")
          .doesNotContain(SECRET);
    }
  }

  @Test
  void serviceLoaderFindsTheProviderByName() {
    FallbackCpConfig config = fallbackCp(API7_GATEWAY);
    try (StorageBackend backend = StorageBackends.open(config.backend(), config.block())) {
      assertThat(backend).isInstanceOf(S3Backend.class);
      assertThat(backend.name()).isEqualTo("aws_s3");
    }
  }

  @Test
  void invalidBucketNameIsAConfigurationError() {
    try (StorageBackend backend = new S3Backend(settings("endpoint: http://127.0.0.1:9000"))) {
      assertThatThrownBy(() -> backend.bucket("Not_A_Bucket"))
          .isInstanceOf(InvalidStorageConfigException.class)
          .hasMessageContaining("'Not_A_Bucket'");
    }
  }
}
