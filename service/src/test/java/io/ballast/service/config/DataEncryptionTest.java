package io.ballast.service.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigLoader;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DataEncryptionTest {

  private static final String CONTROL_PLANE =
      """
      deployment:
        role: control_plane
        admin:
          admin_key:
            - name: admin
              key: secret-admin-key
              role: admin
        role_control_plane:
          conf_server:
            listen: %s
      """;

  private static final String S3 =
      """
      fallback_cp:
        aws_s3:
          access_key: AKIAEXAMPLE
          secret_key: secretExample
          region: ap-south-1
          config_bucket: c
          resource_bucket: r
      """;

  private static final String LOCAL_FOLDER =
      """
      fallback_cp:
        filesystem:
          path: data/storage
          config_bucket: c
          resource_bucket: r
      """;

  private static NodeConfig parse(String yaml) {
    return NodeConfig.parse(
        ConfigLoader.parse(
            yaml, "conf/config.yaml", Map.of("BALLAST_KEYRING", "my-own-keyring-entry-1")::get),
        "host");
  }

  private static String cp(String confServer, String apisix) {
    return CONTROL_PLANE.formatted(confServer)
        + (apisix.isEmpty() ? "" : "apisix:\n" + apisix.indent(2));
  }

  @Test
  void apisixDefaultsSealWithApisixsKeyring() {
    DataEncryption encryption = parse(cp("127.0.0.1:9280", "")).dataEncryption();

    assertThat(encryption.enabled()).isTrue();
    assertThat(encryption.keyring()).containsExactly("qeddd145sfvddff3", "edd1c9f0985e76a2");
    assertThat(encryption.seals()).isTrue();
    assertThat(encryption.toString()).doesNotContain("qeddd145sfvddff3");
  }

  @Test
  void readsTheBlockWithVariables() {
    DataEncryption encryption =
        parse(
                cp(
                    "0.0.0.0:9280",
                    """
                    data_encryption:
                      enable_encrypt_fields: true
                      keyring:
                        - ${{BALLAST_KEYRING}}
                        - qeddd145sfvddff3
                    """))
            .dataEncryption();

    assertThat(encryption.keyring()).containsExactly("my-own-keyring-entry-1", "qeddd145sfvddff3");
    assertThat(encryption.sealing().seals()).isTrue();
  }

  @Test
  void anEmptyKeyringOrSealingOffSealsNothing() {
    assertThat(
            parse(cp("0.0.0.0:9280", "data_encryption:\n  keyring: []\n")).dataEncryption().seals())
        .isFalse();
    DataEncryption off =
        parse(cp("0.0.0.0:9280", "data_encryption:\n  enable_encrypt_fields: false\n"))
            .dataEncryption();
    assertThat(off.seals()).isFalse();
    assertThat(off.sealing().seals()).isFalse();
  }

  @Test
  void refusesApisixsPublicKeyringWhereSealedValuesLeaveTheHost() {
    assertThatThrownBy(() -> parse(cp("0.0.0.0:9280", "")))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "conf/config.yaml: apisix.data_encryption.keyring[0]: is APISIX's published default"
                + " (keyring is not set): anyone can open what it seals, and"
                + " deployment.role_control_plane.conf_server.listen 0.0.0.0:9280 sends it off"
                + " this host; set your own keyring on this node and its data planes");
    assertThatThrownBy(
            () ->
                parse(
                    cp("127.0.0.1:9280", "data_encryption:\n  keyring: [edd1c9f0985e76a2]\n") + S3))
        .hasMessageStartingWith(
            "conf/config.yaml: apisix.data_encryption.keyring[0]: is APISIX's published default:")
        .hasMessageContaining("fallback_cp.aws_s3 sends it off this host");
  }

  @Test
  void refusesApisixsPublicKeyringWhenViewersReadSealedValuesFromAnotherHost() {
    String viewerBeyondLoopback =
        """
        deployment:
          role: traditional
          admin:
            admin_key:
              - {name: admin, key: secret-admin-key, role: admin}
              - {name: ci, key: secret-viewer-key, role: viewer}
            admin_listen: {ip: 0.0.0.0, port: 9180}
            allow_admin: [10.0.0.0/8]
        """;
    assertThatThrownBy(() -> parse(viewerBeyondLoopback))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "is APISIX's published default (keyring is not set): anyone can open what it seals,"
                + " and a viewer key on deployment.admin.admin_listen 0.0.0.0:9180 sends it off"
                + " this host");
    assertThat(
            parse(viewerBeyondLoopback.replace("ip: 0.0.0.0", "ip: 127.0.0.1"))
                .dataEncryption()
                .seals())
        .isTrue();
  }

  @Test
  void acceptsThePublicKeyringOnOneHostOrWhenItOnlyOpens() {
    // Loopback and a local folder: the laptop demo, as in APISIX.
    assertThat(parse(cp("127.0.0.1:9280", "") + LOCAL_FOLDER).dataEncryption().seals()).isTrue();
    // Not sealing with it: an older entry kept to open values sealed before a rotation.
    assertThat(
            parse(
                    cp(
                        "0.0.0.0:9280",
                        "data_encryption:\n  keyring: [my-own-keyring-entry-1, qeddd145sfvddff3]\n"))
                .dataEncryption()
                .seals())
        .isTrue();
    assertThat(
            parse(cp("0.0.0.0:9280", "data_encryption:\n  enable_encrypt_fields: false\n"))
                .dataEncryption()
                .keyring())
        .hasSize(2);
    // A data plane only opens.
    assertThat(
            parse(
                    """
                    deployment:
                      role: data_plane
                      role_data_plane:
                        config_provider: yaml
                    """
                        + S3)
                .dataEncryption()
                .keyring())
        .containsExactly("qeddd145sfvddff3", "edd1c9f0985e76a2");
  }

  @Test
  void refusesUnknownKeysAndShortOrOddEntries() {
    assertThatThrownBy(() -> parse(cp("127.0.0.1:9280", "data_encryption:\n  keyrings: [x]\n")))
        .hasMessageStartingWith("conf/config.yaml: apisix.data_encryption.keyrings: unknown key");
    assertThatThrownBy(() -> parse(cp("127.0.0.1:9280", "data_encryption:\n  keyring: [short]\n")))
        .hasMessage(
            "conf/config.yaml: apisix.data_encryption.keyring[0]: must be at least 16 characters,"
                + " not 5");
    assertThatThrownBy(() -> parse(cp("127.0.0.1:9280", "data_encryption:\n  keyring: [{a: b}]\n")))
        .hasMessage("conf/config.yaml: apisix.data_encryption.keyring[0]: must be a string");
    assertThatThrownBy(
            () -> parse(cp("127.0.0.1:9280", "data_encryption:\n  enable_encrypt_fields: maybe\n")))
        .hasMessageContaining("apisix.data_encryption.enable_encrypt_fields");
  }
}
