package io.ballast.service.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigLoader;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deployment.role_control_plane.conf_server}, {@code deployment.certs} and {@code
 * role_data_plane.control_plane}: APISIX's keys, paths from the file's folder, and refusals naming
 * the key path.
 */
class ChannelConfigTest {

  private static final String ADMIN =
      """
      deployment:
        admin:
          admin_key:
            - name: admin
              key: channel-config-admin-key
              role: admin
      """;

  @TempDir Path dir;

  private NodeConfig parse(String yaml) throws IOException {
    Path conf = Files.createDirectories(dir.resolve("conf"));
    for (String name : new String[] {"cp.pem", "cp.key", "ca.pem", "dp.pem", "dp.key"}) {
      Files.writeString(conf.resolve(name), "PEM");
    }
    Path file = Files.writeString(conf.resolve("config.yaml"), yaml);
    return NodeConfig.parse(ConfigLoader.load(file), "host");
  }

  @Test
  void theConfServerListensOnLoopbackByDefaultInPlainHttp() throws IOException {
    ConfServerConfig confServer = parse(ADMIN + "  role: control_plane\n").confServer();

    assertThat(confServer.listen()).isEqualTo(new Listen("127.0.0.1", 9280));
    assertThat(confServer.tls()).isFalse();
    assertThat(confServer.loopbackOnly()).isTrue();
  }

  @Test
  void confServerFilesAreReadFromTheFilesFolder() throws IOException {
    ConfServerConfig confServer =
        parse(
                ADMIN
                    + """
                      role: control_plane
                      role_control_plane:
                        conf_server:
                          listen: 0.0.0.0:9280
                          cert: cp.pem
                          cert_key: ./cp.key
                          client_ca_cert: %s
                    apisix:
                      data_encryption: {keyring: [channel-config-test-keyring]}
                    """
                        .formatted(dir.resolve("conf/ca.pem")))
            .confServer();

    Path conf = dir.resolve("conf");
    assertThat(confServer.tls()).isTrue();
    assertThat(confServer.loopbackOnly()).isFalse();
    assertThat(confServer.cert()).contains(conf.resolve("cp.pem"));
    assertThat(confServer.certKey()).contains(conf.resolve("cp.key"));
    assertThat(confServer.clientCaCert()).contains(conf.resolve("ca.pem"));
  }

  @Test
  void aDataPlaneTakesHttpsHostsAndItsCerts() throws IOException {
    NodeConfig config =
        parse(
            """
            deployment:
              role: data_plane
              role_data_plane:
                config_provider: control_plane
                control_plane:
                  host: [https://cp.example.com:9280, http://127.0.0.1:9280]
              certs:
                cert: dp.pem
                cert_key: dp.key
                trusted_ca_cert: ca.pem
            """);

    Path conf = dir.resolve("conf");
    assertThat(config.controlPlaneHosts())
        .containsExactly(
            URI.create("https://cp.example.com:9280"), URI.create("http://127.0.0.1:9280"));
    assertThat(config.certs())
        .isEqualTo(
            new ChannelCerts(
                Optional.of(conf.resolve("dp.pem")),
                Optional.of(conf.resolve("dp.key")),
                Optional.of(conf.resolve("ca.pem"))));
  }

  @Test
  void refusesWhatCannotWorkNamingTheKeyPath() {
    String cp = ADMIN + "  role: control_plane\n  role_control_plane:\n    conf_server:\n";
    assertError(cp + "      cert: cp.pem\n", "role_control_plane.conf_server.cert_key", "required");
    assertError(cp + "      cert_key: cp.key\n", "role_control_plane.conf_server.cert", "required");
    assertError(
        cp + "      client_ca_cert: ca.pem\n",
        "role_control_plane.conf_server.client_ca_cert",
        "needs cert and cert_key");
    assertError(
        cp + "      cert: missing.pem\n      cert_key: cp.key\n",
        "role_control_plane.conf_server.cert",
        "cannot read " + dir.resolve("conf/missing.pem"));
    assertError(
        cp + "      ca_cert: ca.pem\n", "role_control_plane.conf_server.ca_cert", "unknown");
    assertError(ADMIN + "  certs:\n    key: dp.key\n", "certs.key", "unknown");
    assertError(ADMIN + "  certs:\n    cert: dp.pem\n", "certs.cert_key", "required");
    String dp = "deployment:\n  role: data_plane\n  role_data_plane:\n    control_plane:\n";
    assertError(
        dp + "      host: [https://cp:9280]\n      tiemout: 30\n",
        "role_data_plane.control_plane.tiemout",
        "unknown");
    assertError(
        dp + "      host: [grpc://cp:9280]\n", "role_data_plane.control_plane.host", "https://");
  }

  private void assertError(String yaml, String keyPath, String problem) {
    assertThatThrownBy(() -> parse(yaml))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(dir.resolve("conf/config.yaml") + ": deployment." + keyPath)
        .hasMessageContaining(problem);
  }
}
