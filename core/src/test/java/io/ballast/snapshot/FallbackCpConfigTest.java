package io.ballast.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigLoader;
import io.ballast.config.CronSpec;
import io.ballast.storage.StorageProvider;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FallbackCpConfigTest {

  private static final String FILE = "conf/config.yaml";

  private static final String API7_DASHBOARD =
      """
      # API7 dashboard (control-plane) file
      fallback_cp:
        aws_s3:
          access_key: AKIAEXAMPLE
          secret_key: secretExample
          region: ap-south-1
          config_bucket: api7-fallback-config
          resource_bucket: api7-fallback-resource
        cron_spec: '@every 1m'
      """;

  private static final String API7_GATEWAY =
      """
      # API7 gateway (data-plane) file
      deployment:
        role: data_plane
        role_data_plane:
          config_provider: yaml
        fallback_cp:
          aws_s3:
            access_key: AKIAEXAMPLE
            secret_key: secretExample
            region: ap-south-1
            config_bucket: api7-fallback-config
            resource_bucket: api7-fallback-resource
      """;

  private static Optional<FallbackCpConfig> find(String yaml) {
    return FallbackCpConfig.find(ConfigLoader.parse(yaml, FILE, name -> null));
  }

  private static FallbackCpConfig parse(String yaml) {
    return find(yaml).orElseThrow();
  }

  private static void assertApi7AwsS3(FallbackCpConfig config, String blockPath) {
    assertThat(config.backend()).isEqualTo("aws_s3");
    assertThat(config.block().path()).isEqualTo(blockPath);
    assertThat(config.block().file()).isEqualTo(FILE);
    assertThat(config.block().keys())
        .containsExactly("access_key", "secret_key", "region", "config_bucket", "resource_bucket");
    assertThat(config.block().string("access_key")).contains("AKIAEXAMPLE");
    assertThat(config.block().string("secret_key")).contains("secretExample");
    assertThat(config.block().string("region")).contains("ap-south-1");
    assertThat(config.configBucket()).isEqualTo("api7-fallback-config");
    assertThat(config.resourceBucket()).isEqualTo("api7-fallback-resource");
    assertThat(config.prefix()).isEmpty();
    assertThat(config.cronSpec()).isEqualTo(CronSpec.parse("@every 1m"));
    assertThat(config.cronSpec().spec()).isEqualTo("@every 1m");
    assertThat(config.pollInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(config.retention()).isEqualTo(10);
    assertThat(config.gatewayGroup()).isEqualTo("default");
  }

  @Test
  void readsApi7DashboardFile() {
    assertApi7AwsS3(parse(API7_DASHBOARD), "fallback_cp.aws_s3");
  }

  @Test
  void readsApi7GatewayFile() {
    // The gateway form has no cron_spec: the default is API7's own, every minute.
    assertApi7AwsS3(parse(API7_GATEWAY), "deployment.fallback_cp.aws_s3");
  }

  @Test
  void noBlockMeansNoFallback() {
    assertThat(find("deployment:\n  role: data_plane\n")).isEmpty();
    assertThat(find("")).isEmpty();
  }

  @Test
  void readsEveryKeyOfTheFilesystemBlock() {
    FallbackCpConfig config =
        parse(
            """
            fallback_cp:
              filesystem:
                path: /var/lib/ballast/snapshots
                config_bucket: config
                resource_bucket: resources
                prefix: prod/eu
              cron_spec: '*/5 * * * *'
              poll_interval: 2s
              retention: 3
              gateway_group: edge_eu-1
            """);

    assertThat(config.backend()).isEqualTo("filesystem");
    assertThat(config.block().string("path")).contains("/var/lib/ballast/snapshots");
    assertThat(config.configBucket()).isEqualTo("config");
    assertThat(config.resourceBucket()).isEqualTo("resources");
    assertThat(config.prefix()).isEqualTo("prod/eu");
    assertThat(config.cronSpec().spec()).isEqualTo("*/5 * * * *");
    assertThat(config.cronSpec().next(Instant.parse("2026-11-25T10:01:00Z"), ZoneOffset.UTC))
        .isEqualTo(Instant.parse("2026-11-25T10:05:00Z"));
    assertThat(config.pollInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(config.retention()).isEqualTo(3);
    assertThat(config.gatewayGroup()).isEqualTo("edge_eu-1");
  }

  @Test
  void readsAzureContainerSpelling() {
    FallbackCpConfig config =
        parse(
            """
            deployment:
              fallback_cp:
                azure_blob:
                  account_name: ballast
                  account_key: c2VjcmV0
                  config_container: api7-config
                  resource_container: api7-resource
            """);

    assertThat(config.backend()).isEqualTo("azure_blob");
    assertThat(config.configBucket()).isEqualTo("api7-config");
    assertThat(config.resourceBucket()).isEqualTo("api7-resource");
  }

  @Test
  void aMissingAzureContainerIsNamedTheAzureWay() {
    assertThatThrownBy(
            () ->
                parse(
                    """
                    fallback_cp:
                      azure_blob:
                        config_container: c
                    """))
        .hasMessage(FILE + ": fallback_cp.azure_blob.resource_container: is required");
  }

  @Test
  void bothSpellingsOfOneBucketAreRefused() {
    assertThatThrownBy(
            () ->
                parse(
                    """
                    fallback_cp:
                      minio:
                        config_bucket: a
                        config_container: b
                        resource_bucket: r
                    """))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("fallback_cp.minio.config_container")
        .hasMessageContaining("config_bucket or config_container");
  }

  @Test
  void aBlockInBothPlacesIsRefused() {
    assertThatThrownBy(
            () ->
                parse(
                    API7_DASHBOARD
                        + """
                        deployment:
                          fallback_cp:
                            filesystem:
                              config_bucket: c
                              resource_bucket: r
                        """))
        .isInstanceOfSatisfying(
            ConfigException.class, e -> assertThat(e.keyPath()).isEqualTo("fallback_cp"))
        .hasMessageContaining(FILE)
        .hasMessageContaining("deployment.fallback_cp");
  }

  @Test
  void twoStorageBlocksAreRefusedNamingBoth() {
    assertThatThrownBy(
            () ->
                parse(
                    """
                    fallback_cp:
                      aws_s3:
                        config_bucket: c
                        resource_bucket: r
                      minio:
                        config_bucket: c
                        resource_bucket: r
                    """))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            FILE
                + ": fallback_cp: has 2 storage blocks, aws_s3 and minio; keep exactly one, or"
                + " list them under backends (redundant storage)");
  }

  private static final String REDUNDANT =
      """
      fallback_cp:
        backends:
          - aws_s3:
              access_key: AKIAEXAMPLE
              secret_key: secretExample
              region: eu-west-1
              config_bucket: s3-config
              resource_bucket: s3-resources
              prefix: prod
          - azure_blob: {account_name: acct, account_key: a2V5, config_container: az-config, resource_container: az-resources, prefix: prod}
        cron_spec: '@every 30s'
        gateway_group: edge
      """;

  @Test
  void readsAnOrderedListOfStorageBlocksUnderBackends() {
    FallbackCpConfig config = parse(REDUNDANT);

    assertThat(config.redundant()).isTrue();
    assertThat(config.storages())
        .extracting(StorageBlock::backend, StorageBlock::path, StorageBlock::resourceBucket)
        .containsExactly(
            tuple("aws_s3", "fallback_cp.backends[0].aws_s3", "s3-resources"),
            tuple("azure_blob", "fallback_cp.backends[1].azure_blob", "az-resources"));
    assertThat(config.storages().get(1).bucket(SnapshotKind.INSTANCE)).isEqualTo("az-config");
    assertThat(config.storages().get(1).block().string("account_name")).contains("acct");
    // The single-block accessors answer for the first one.
    assertThat(config.backend()).isEqualTo("aws_s3");
    assertThat(config.configBucket()).isEqualTo("s3-config");
    assertThat(config.prefix()).isEqualTo("prod");
    assertThat(config.cronSpec().spec()).isEqualTo("@every 30s");
    assertThat(config.gatewayGroup()).isEqualTo("edge");
    assertThat(config.toString())
        .contains("aws_s3", "azure_blob", "s3-resources", "az-config")
        .doesNotContain("AKIAEXAMPLE", "secretExample", "a2V5");
  }

  @Test
  void apiSevensSingleBlockIsAListOfOne() {
    FallbackCpConfig config = parse(API7_DASHBOARD);

    assertThat(config.redundant()).isFalse();
    assertThat(config.storages()).containsExactly(config.primary());
    assertThat(config.primary().path()).isEqualTo("fallback_cp.aws_s3");
  }

  @Test
  void errorsInsideTheListNameTheEntryIndex() {
    assertThatThrownBy(() -> parse(REDUNDANT.replace("resource_container: az-resources, ", "")))
        .hasMessage(FILE + ": fallback_cp.backends[1].azure_blob.resource_container: is required");
    assertThatThrownBy(() -> parse(REDUNDANT.replace("prefix: prod}", "prefix: test}")))
        .hasMessageStartingWith(
            FILE
                + ": fallback_cp.backends[1].azure_blob.prefix: is 'test' but"
                + " fallback_cp.backends[0].aws_s3 has 'prod'");
    assertThatThrownBy(() -> parse("fallback_cp:\n  backends:\n    - aws_s3: {config_bucket: c}\n"))
        .hasMessage(FILE + ": fallback_cp.backends[0].aws_s3.resource_bucket: is required");
    assertThatThrownBy(() -> parse("fallback_cp:\n  backends:\n    - aws_s3\n"))
        .hasMessage(FILE + ": fallback_cp.backends[0]: must be a mapping, not 'aws_s3'");
    assertThatThrownBy(() -> parse("fallback_cp:\n  backends:\n    - aws_s3:\n"))
        .hasMessageStartingWith(FILE + ": fallback_cp.backends[0].aws_s3: is empty");
    assertThatThrownBy(
            () ->
                parse(
                    "fallback_cp:\n  backends:\n    - aws_s3: {config_bucket: c,"
                        + " resource_bucket: r}\n      minio: {config_bucket: c,"
                        + " resource_bucket: r}\n"))
        .hasMessageStartingWith(
            FILE + ": fallback_cp.backends[0]: has aws_s3, minio; each entry is one storage block");
  }

  @Test
  void theListIsNotEmptyAndStandsAlone() {
    assertThatThrownBy(() -> parse("fallback_cp:\n  backends: []\n"))
        .hasMessageStartingWith(FILE + ": fallback_cp.backends: is empty");
    assertThatThrownBy(() -> parse("fallback_cp:\n  backends:\n"))
        .hasMessageStartingWith(FILE + ": fallback_cp.backends: is empty");
    assertThatThrownBy(() -> parse("fallback_cp:\n  backends: {aws_s3: {}}\n"))
        .hasMessage(FILE + ": fallback_cp.backends: must be a list, not a mapping");
    assertThatThrownBy(
            () ->
                parse(
                    REDUNDANT
                        + "  filesystem: {path: /tmp/s, config_bucket: c, resource_bucket: r}\n"))
        .hasMessage(
            FILE
                + ": fallback_cp.filesystem: a storage block beside backends; list it under"
                + " backends instead");
    assertThatThrownBy(() -> parse(API7_DASHBOARD + "  backend: []\n"))
        .hasMessage(FILE + ": fallback_cp.backend: unknown key; did you mean 'backends'?");
  }

  @Test
  void noStorageBlockIsRefused() {
    assertThatThrownBy(() -> parse("fallback_cp:\n  cron_spec: '@every 1m'\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(FILE + ": fallback_cp: needs a storage block");
    assertThatThrownBy(() -> parse("fallback_cp:\n  aws_s3:\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(FILE + ": fallback_cp.aws_s3: is empty");
  }

  @Test
  void aMissingBucketNamesTheFullKeyPathAndTheFile() {
    assertThatThrownBy(
            () ->
                parse(
                    """
                    deployment:
                      fallback_cp:
                        aws_s3:
                          access_key: AKIAEXAMPLE
                          secret_key: secretExample
                          config_bucket: api7-fallback-config
                    """))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.file()).isEqualTo(FILE);
              assertThat(e.keyPath()).isEqualTo("deployment.fallback_cp.aws_s3.resource_bucket");
            })
        .hasMessage(FILE + ": deployment.fallback_cp.aws_s3.resource_bucket: is required")
        .hasMessageNotContaining("secretExample");
  }

  @Test
  void anEmptyBucketIsRefused() {
    assertThatThrownBy(
            () ->
                parse(
                    """
                    fallback_cp:
                      aws_s3:
                        config_bucket: ''
                        resource_bucket: r
                    """))
        .hasMessage(FILE + ": fallback_cp.aws_s3.config_bucket: must not be empty");
  }

  @Test
  void anUnknownKeyBesideTheBlockIsRefused() {
    assertThatThrownBy(() -> parse(API7_DASHBOARD + "  crontab: '@every 1m'\n"))
        .isInstanceOfSatisfying(
            ConfigException.class, e -> assertThat(e.keyPath()).isEqualTo("fallback_cp.crontab"))
        .hasMessageContaining("unknown key")
        .hasMessageContaining(
            "only backends, cron_spec, expire_after, export_debounce, gateway_group,"
                + " max_route_shrink, poll_interval, retention are allowed");
  }

  @Test
  void aTypoBesideTheBlockIsAnsweredWithTheKeyMeant() {
    assertThatThrownBy(() -> parse(API7_DASHBOARD + "  poll-interval: 5s\n"))
        .hasMessage(
            FILE + ": fallback_cp.poll-interval: unknown key; did you mean 'poll_interval'?");
  }

  @Test
  void aBadCronSpecNamesItsKeyPath() {
    assertThatThrownBy(() -> parse(API7_DASHBOARD.replace("'@every 1m'", "'@every minute'")))
        .isInstanceOfSatisfying(
            ConfigException.class, e -> assertThat(e.keyPath()).isEqualTo("fallback_cp.cron_spec"))
        .hasMessageStartingWith(FILE + ": fallback_cp.cron_spec: '@every minute'");
  }

  @Test
  void badExtensionValuesAreRefused() {
    String base =
        """
        fallback_cp:
          filesystem:
            config_bucket: c
            resource_bucket: r
        """;
    assertThatThrownBy(() -> parse(base + "  retention: 0\n"))
        .hasMessage(FILE + ": fallback_cp.retention: must be at least 1, not 0");
    assertThatThrownBy(() -> parse(base + "  retention: many\n"))
        .hasMessageContaining("fallback_cp.retention: must be an integer");
    assertThatThrownBy(() -> parse(base + "  poll_interval: 0s\n"))
        .hasMessage(FILE + ": fallback_cp.poll_interval: must be longer than zero");
    assertThatThrownBy(() -> parse(base + "  poll_interval: soon\n"))
        .hasMessageContaining("fallback_cp.poll_interval:");
    assertThatThrownBy(() -> parse(base + "  gateway_group: 'eu/west'\n"))
        .hasMessageContaining("fallback_cp.gateway_group: 'eu/west'");
    assertThatThrownBy(() -> parse(base + "    prefix: /abs\n"))
        .hasMessageContaining("fallback_cp.filesystem.prefix: object key '/abs'");
  }

  @Test
  void variablesWorkInsideTheBlock() {
    FallbackCpConfig config =
        FallbackCpConfig.find(
                ConfigLoader.parse(
                    """
                    fallback_cp:
                      aws_s3:
                        secret_key: ${{S3_SECRET}}
                        config_bucket: ${{BUCKET:=cfg}}
                        resource_bucket: res
                      retention: ${{KEEP}}
                    """,
                    FILE,
                    Map.of("S3_SECRET", "fromEnv", "KEEP", "4")::get))
            .orElseThrow();
    assertThat(config.block().string("secret_key")).contains("fromEnv");
    assertThat(config.configBucket()).isEqualTo("cfg");
    assertThat(config.retention()).isEqualTo(4);
  }

  @Test
  void toStringHidesSecrets() {
    String text = parse(API7_DASHBOARD).toString();
    assertThat(text)
        .contains("aws_s3", "api7-fallback-config", "api7-fallback-resource")
        .doesNotContain("AKIAEXAMPLE", "secretExample", "ap-south-1", "access_key");
  }

  @Test
  void commonBlockKeys() {
    assertThat(StorageProvider.COMMON_BLOCK_KEYS)
        .containsExactlyInAnyOrder(
            "config_bucket", "resource_bucket", "config_container", "resource_container", "prefix");
  }

  @Test
  void expireAfterDefaultsToThreeCronPeriodsAndNeverUnderFifteenMinutes() {
    FallbackCpConfig everyMinute = parse(API7_DASHBOARD);
    assertThat(everyMinute.expireAfter()).isEqualTo(Duration.ofMinutes(15));
    assertThat(everyMinute.exportDebounce()).isEqualTo(Duration.ofSeconds(1));

    FallbackCpConfig everyTenMinutes = parse(API7_DASHBOARD.replace("'@every 1m'", "'@every 10m'"));
    assertThat(everyTenMinutes.expireAfter()).isEqualTo(Duration.ofMinutes(30));
  }

  @Test
  void readsExpireAfterAndExportDebounce() {
    FallbackCpConfig config =
        parse(API7_DASHBOARD + "  expire_after: 5m\n  export_debounce: 250ms\n");

    assertThat(config.expireAfter()).isEqualTo(Duration.ofMinutes(5));
    assertThat(config.exportDebounce()).isEqualTo(Duration.ofMillis(250));
  }

  @Test
  void refusesAnExpiryNoLongerThanOneCronPeriodOrAZeroDebounce() {
    assertThatThrownBy(() -> parse(API7_DASHBOARD + "  expire_after: 1m\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("fallback_cp.expire_after")
        .hasMessageContaining("longer than one cron_spec period (60s)");
    assertThatThrownBy(() -> parse(API7_DASHBOARD + "  export_debounce: 0s\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("fallback_cp.export_debounce");
    assertThatThrownBy(() -> parse(API7_DASHBOARD + "  export_debounse: 1s\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("did you mean");
  }
}
