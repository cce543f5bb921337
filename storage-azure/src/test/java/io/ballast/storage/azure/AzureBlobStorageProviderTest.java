package io.ballast.storage.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.config.ConfigException;
import io.ballast.snapshot.FallbackCpConfig;
import io.ballast.storage.InvalidStorageConfigException;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.StorageBackends;
import io.ballast.storage.azure.AzureBlobConfig.Credentials;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AzureBlobStorageProviderTest {

  private static final String KEY = "c2VjcmV0LWFjY291bnQta2V5LXZhbHVlLTEyMzQ1Njc4OTA=";
  private static final String SAS = "sv=2024-08-04&ss=b&srt=co&sp=rwdl&sig=c2VjcmV0LXNpZw%3D";
  private static final String CONNECTION_STRING =
      "DefaultEndpointsProtocol=https;AccountName=api7fallback;AccountKey="
          + KEY
          + ";EndpointSuffix=core.windows.net";

  /** API7's documented block, verbatim. */
  private static final String API7 =
      """
      fallback_cp:
        azure_blob:
          account_name: api7fallback
          account_key: base64key==
          config_container: api7-fallback-config
          resource_container: api7-fallback-resource
          endpoint: https://api7fallback.blob.core.windows.net
        cron_spec: '@every 1m'
      """;

  private static FallbackCpConfig block(String body) {
    return AzureTestSupport.fallbackCp(
        "fallback_cp:\n  azure_blob:\n"
            + body.stripIndent()
                .lines()
                .map(line -> "    " + line + "\n")
                .reduce("", String::concat));
  }

  private static AzureBlobConfig parse(String body) {
    return AzureBlobStorageProvider.parse(block(body).block());
  }

  @Test
  void api7BlockParses() {
    FallbackCpConfig fallback = AzureTestSupport.fallbackCp(API7);
    AzureBlobConfig config = AzureBlobStorageProvider.parse(fallback.block());

    assertThat(fallback.backend()).isEqualTo("azure_blob");
    assertThat(fallback.configBucket()).isEqualTo("api7-fallback-config");
    assertThat(fallback.resourceBucket()).isEqualTo("api7-fallback-resource");
    assertThat(config)
        .isEqualTo(
            new AzureBlobConfig(
                "api7fallback",
                URI.create("https://api7fallback.blob.core.windows.net"),
                new Credentials.AccountKey("base64key=="),
                Duration.ofSeconds(30)));
  }

  @Test
  void endpointDefaultsToTheAccountsPublicEndpoint() {
    AzureBlobConfig config =
        parse(
            """
            account_name: api7fallback
            account_key: %s
            config_container: c
            resource_container: r
            timeout: 5s
            """
                .formatted(KEY));

    assertThat(config.endpoint())
        .isEqualTo(URI.create("https://api7fallback.blob.core.windows.net"));
    assertThat(config.timeout()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void withoutAnySecretTheDefaultAzureCredentialIsUsed() {
    AzureBlobConfig config =
        parse("account_name: api7fallback\nconfig_container: c\nresource_container: r\n");

    assertThat(config.credentials()).isEqualTo(new Credentials.DefaultChain());
  }

  @Test
  void everyCredentialKindBuildsABackendWithoutIo() {
    for (String credential :
        new String[] {
          "account_key: " + KEY,
          "sas_token: '" + SAS + "'",
          "connection_string: '" + CONNECTION_STRING + "'",
          ""
        }) {
      FallbackCpConfig fallback =
          block(
              "account_name: api7fallback\n"
                  + credential
                  + "\nconfig_container: cfg\nresource_container: res\n");
      try (StorageBackend backend = StorageBackends.open("azure_blob", fallback.block())) {
        assertThat(backend.bucket("cfg").describe())
            .isEqualTo("azure_blob:https://api7fallback.blob.core.windows.net/cfg");
      }
    }
  }

  @Test
  void connectionStringNeedsNoAccountNameOrEndpoint() {
    AzureBlobConfig config =
        parse(
            "connection_string: '"
                + CONNECTION_STRING
                + "'\nconfig_container: c\nresource_container: r\n");

    assertThat(config.credentials()).isEqualTo(new Credentials.ConnectionString(CONNECTION_STRING));
    assertThat(config.accountName()).isNull();
    assertThat(config.endpoint()).isNull();
  }

  @Test
  void sasTokenIsAccepted() {
    AzureBlobConfig config =
        parse(
            "account_name: api7fallback\nsas_token: '"
                + SAS
                + "'\nconfig_container: c\nresource_container: r\n");

    assertThat(config.credentials()).isEqualTo(new Credentials.SasToken(SAS));
  }

  @Test
  void moreThanOneSecretIsRefusedNamingThem() {
    String body =
        "account_name: api7fallback\naccount_key: "
            + KEY
            + "\nsas_token: '"
            + SAS
            + "'\nconfig_container: c\nresource_container: r\n";

    assertThatThrownBy(() -> parse(body))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("fallback_cp.azure_blob.sas_token")
        .hasMessageContaining("account_key")
        .hasMessageContaining("sas_token")
        .hasMessageNotContaining(KEY)
        .hasMessageNotContaining(SAS);
  }

  @Test
  void missingAccountNameIsRefused() {
    assertThatThrownBy(
            () -> parse("account_key: " + KEY + "\nconfig_container: c\nresource_container: r\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(AzureTestSupport.FILE)
        .hasMessageContaining("fallback_cp.azure_blob.account_name")
        .hasMessageContaining("required")
        .hasMessageNotContaining(KEY);
  }

  @Test
  void unknownKeyIsRefusedNamingIt() {
    assertThatThrownBy(
            () ->
                parse(
                    "account_name: api7fallback\naccount_key: "
                        + KEY
                        + "\nregion: westeurope\nconfig_container: c\nresource_container: r\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("fallback_cp.azure_blob.region")
        .hasMessageContaining("unknown key")
        .hasMessageNotContaining(KEY);
  }

  @ParameterizedTest
  @ValueSource(strings = {"ftp://example.com", "not a url", "https://a.example.com/?sig=secret"})
  void badEndpointIsRefused(String endpoint) {
    assertThatThrownBy(
            () ->
                parse(
                    "account_name: api7fallback\naccount_key: "
                        + KEY
                        + "\nendpoint: '"
                        + endpoint
                        + "'\nconfig_container: c\nresource_container: r\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("fallback_cp.azure_blob.endpoint")
        .hasMessageNotContaining("sig=secret");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0s", "-1s", "soon"})
  void badTimeoutIsRefused(String timeout) {
    assertThatThrownBy(
            () ->
                parse(
                    "account_name: api7fallback\naccount_key: "
                        + KEY
                        + "\ntimeout: '"
                        + timeout
                        + "'\nconfig_container: c\nresource_container: r\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("fallback_cp.azure_blob.timeout");
  }

  @Test
  void invalidAccountNameIsRefused() {
    assertThatThrownBy(
            () ->
                parse(
                    "account_name: Not_Valid\naccount_key: "
                        + KEY
                        + "\nconfig_container: c\nresource_container: r\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("fallback_cp.azure_blob.account_name");
  }

  @Test
  void secretsNeverPrintInToString() {
    for (String body :
        new String[] {
          "account_name: api7fallback\naccount_key: " + KEY,
          "account_name: api7fallback\nsas_token: '" + SAS + "'",
          "connection_string: '" + CONNECTION_STRING + "'"
        }) {
      FallbackCpConfig fallback =
          block(body + "\nconfig_container: cfg\nresource_container: res\n");
      AzureBlobConfig config = AzureBlobStorageProvider.parse(fallback.block());
      try (StorageBackend backend = StorageBackends.open("azure_blob", fallback.block())) {
        for (String text :
            new String[] {
              config.toString(),
              fallback.toString(),
              backend.toString(),
              backend.bucket(fallback.configBucket()).describe()
            }) {
          assertThat(text)
              .doesNotContain(KEY)
              .doesNotContain(SAS)
              .doesNotContain("sig=")
              .doesNotContain("c2VjcmV0");
        }
      }
    }
  }

  @Test
  void serviceLoaderFindsTheProviderByName() {
    FallbackCpConfig fallback = AzureTestSupport.fallbackCp(API7);

    try (StorageBackend backend = StorageBackends.open(fallback.backend(), fallback.block())) {
      assertThat(backend).isInstanceOf(AzureBlobBackend.class);
      assertThat(backend.name()).isEqualTo("azure_blob");
      assertThat(backend.bucket(fallback.configBucket()).describe())
          .isEqualTo("azure_blob:https://api7fallback.blob.core.windows.net/api7-fallback-config");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"ab", "Upper", "under_score", "-dash", "dash-", "double--dash"})
  void invalidContainerNameIsRefused(String container) {
    try (StorageBackend backend =
        StorageBackends.open("azure_blob", AzureTestSupport.fallbackCp(API7).block())) {
      assertThatThrownBy(() -> backend.bucket(container))
          .isInstanceOf(InvalidStorageConfigException.class)
          .hasMessageContaining("'" + container + "'");
    }
  }

  @Test
  void blockIdsHaveOneLengthAndDifferPerUpload() {
    String a = AzureBlobObjectStorage.blockId("3f2504e0-4f89-11d3-9a0c-0305e82c3301", 1);
    String b = AzureBlobObjectStorage.blockId("3f2504e0-4f89-11d3-9a0c-0305e82c3301", 123456);
    String c = AzureBlobObjectStorage.blockId("6ba7b810-9dad-11d1-80b4-00c04fd430c8", 1);

    assertThat(a).hasSameSizeAs(b).hasSameSizeAs(c).isNotEqualTo(b).isNotEqualTo(c);
  }
}
