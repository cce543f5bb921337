package io.ballast.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The parameters land under the fixed keys (the text blocks are de-indented to column 0). */
class ConfigsTest {

  private final Path node = Path.of("/tmp/chaos/node");
  private final ClusterStorage storage = new FilesystemStorage(Path.of("/tmp/chaos/storage"));

  @Test
  void controlPlaneExportsEverySecondToTheFilesystem() {
    String yaml = Configs.controlPlane(node, storage, "k3y", 9180, 9280, 9090);

    assertThat(yaml)
        .startsWith("deployment:\n  role: control_plane\n")
        .contains("        key: k3y\n")
        .contains("    admin_listen:\n      ip: 127.0.0.1\n      port: 9180\n")
        .contains("    conf_server:\n      listen: 127.0.0.1:9280\n")
        .contains("  status:\n    ip: 127.0.0.1\n    port: 9090\n")
        .contains("  data_dir: /tmp/chaos/node/data\n")
        .contains("fallback_cp:\n  filesystem:\n    path: /tmp/chaos/storage\n")
        .contains("  cron_spec: '@every 1s'\n")
        .contains("  data_encryption:\n    keyring: [" + Configs.KEYRING + "]\n");
  }

  @Test
  void dataPlanesPollStorageUnderDeployment() {
    String following = Configs.dataPlane(node, storage, 9280, 9080, 9091);
    String standalone = Configs.standaloneDataPlane(node, storage, 9081, 9092);

    assertThat(following)
        .contains("    config_provider: control_plane\n")
        .contains("      host:\n        - http://127.0.0.1:9280\n")
        .contains("  node_listen:\n    - ip: 127.0.0.1\n      port: 9080\n");
    assertThat(standalone)
        .contains("    config_provider: yaml\n")
        .doesNotContain("control_plane")
        .contains("  node_listen:\n    - ip: 127.0.0.1\n      port: 9081\n");
    for (String yaml : new String[] {following, standalone}) {
      assertThat(yaml)
          .contains("  fallback_cp:\n    filesystem:\n      path: /tmp/chaos/storage\n")
          .contains("      resource_bucket: ballast-resources\n    poll_interval: 1s\n")
          .contains("  data_encryption:\n    keyring: [" + Configs.KEYRING + "]\n");
    }
  }

  @Test
  void mutualTlsAddsApisixsChannelKeys() {
    Configs.MutualTls tls =
        new Configs.MutualTls(
            Path.of("/c/ca.pem"),
            Path.of("/c/cp.pem"),
            Path.of("/c/cp.key"),
            Path.of("/c/dp.pem"),
            Path.of("/c/dp.key"));

    assertThat(Configs.controlPlane(node, storage, "k3y", 9180, 9280, 9090, Optional.of(tls)))
        .contains(
            "    conf_server:\n      listen: 127.0.0.1:9280\n      cert: /c/cp.pem\n"
                + "      cert_key: /c/cp.key\n      client_ca_cert: /c/ca.pem\napisix:\n");
    assertThat(Configs.dataPlane(node, storage, 9280, 9080, 9091, Optional.of(tls)))
        .contains("      host:\n        - https://127.0.0.1:9280\n")
        .contains(
            "  certs:\n    cert: /c/dp.pem\n    cert_key: /c/dp.key\n"
                + "    trusted_ca_cert: /c/ca.pem\n  fallback_cp:\n");
  }
}
