package io.ballast.service.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigLoader;
import io.ballast.controlplane.admin.AdminKey;
import io.ballast.dataplane.StandaloneFile;
import io.ballast.service.config.NodeConfig.ConfigProvider;
import io.ballast.service.config.NodeConfig.Role;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeConfigTest {

  private static NodeConfig parse(String yaml) {
    return NodeConfig.parse(
        ConfigLoader.parse(yaml, "conf/config.yaml", Map.<String, String>of()::get), "host");
  }

  private static final String ADMIN =
      """
      deployment:
        admin:
          admin_key:
            - name: admin
              key: secret-admin-key
              role: admin
      """;

  @Test
  void defaultsAreApisixDefaults() {
    NodeConfig config = parse(ADMIN);

    assertThat(config.role()).isEqualTo(Role.TRADITIONAL);
    assertThat(config.proxyListen()).containsExactly(new Listen("0.0.0.0", 9080));
    assertThat(config.admin().listen()).isEqualTo(new Listen("127.0.0.1", 9180));
    assertThat(config.confServerListen()).isEqualTo(new Listen("127.0.0.1", 9280));
    assertThat(config.statusListen()).isEqualTo(new Listen("127.0.0.1", 7085));
    assertThat(config.admin().keys()).extracting(AdminKey::key).containsExactly("secret-admin-key");
    assertThat(config.fallback()).isEmpty();
    assertThat(config.nodeId()).startsWith("host-");
  }

  @Test
  void readsApi7GatewayFileForAStandaloneDataPlane() {
    NodeConfig config =
        parse(
            """
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
            apisix:
              node_listen: [9081, {ip: 127.0.0.1, port: 9082}]
              status: {ip: 127.0.0.1, port: 7086}
            """);

    assertThat(config.role()).isEqualTo(Role.DATA_PLANE);
    assertThat(config.configProvider()).isEqualTo(ConfigProvider.YAML);
    assertThat(config.fallback().orElseThrow().backend()).isEqualTo("aws_s3");
    assertThat(config.proxyListen())
        .containsExactly(new Listen("0.0.0.0", 9081), new Listen("127.0.0.1", 9082));
    assertThat(config.statusListen()).isEqualTo(new Listen("127.0.0.1", 7086));
    assertThat(config.toString()).doesNotContain("secretExample").doesNotContain("AKIAEXAMPLE");
  }

  @Test
  void dataPlaneFollowsControlPlaneHostsInEitherPlace() {
    NodeConfig ballastForm =
        parse(
            """
            deployment:
              role: data_plane
              role_data_plane:
                control_plane:
                  host: ["http://127.0.0.1:9280", "http://cp2:9280"]
            """);
    NodeConfig apisixForm =
        parse(
            """
            deployment:
              role: data_plane
              etcd:
                host: ["http://127.0.0.1:9280"]
            """);

    assertThat(ballastForm.controlPlaneHosts())
        .containsExactly(URI.create("http://127.0.0.1:9280"), URI.create("http://cp2:9280"));
    assertThat(apisixForm.controlPlaneHosts()).containsExactly(URI.create("http://127.0.0.1:9280"));
  }

  @Test
  void yamlWithoutFallbackCpReadsApisixYamlBesideTheNodeFile() {
    NodeConfig config =
        parse("deployment:\n  role: data_plane\n  role_data_plane:\n    config_provider: yaml\n");

    assertThat(config.configProvider()).isEqualTo(ConfigProvider.YAML);
    assertThat(config.fallback()).isEmpty();
    assertThat(config.controlPlaneHosts()).isEmpty();
    assertThat(config.standalone())
        .contains(Path.of("conf/apisix.yaml").toAbsolutePath().normalize());
  }

  @Test
  void jsonReadsApisixJsonAndTheFileCanBeNamedRelativeToTheNodeFile() {
    String json =
        "deployment:\n  role: data_plane\n  role_data_plane:\n    config_provider: json\n";

    assertThat(parse(json).standalone())
        .contains(Path.of("conf/apisix.json").toAbsolutePath().normalize());
    assertThat(parse(json + "ballast:\n  standalone_file: ../routes/gw.json\n").standalone())
        .contains(Path.of("routes/gw.json").toAbsolutePath().normalize());
    assertThat(parse(json + "ballast:\n  standalone_file: /etc/gw/apisix.json\n").standalone())
        .contains(Path.of("/etc/gw/apisix.json"));
  }

  @Test
  void onlyADataPlaneWithoutFallbackCpReadsAStandaloneFile() {
    assertThat(parse(ADMIN).standalone()).isEmpty();
    assertThat(
            parse(
                    "deployment:\n  role: data_plane\n  role_data_plane:\n"
                        + "    config_provider: yaml\n  fallback_cp:\n    filesystem:\n"
                        + "      path: x\n      config_bucket: c\n      resource_bucket: r\n")
                .standalone())
        .isEmpty();
  }

  @Test
  void theStandaloneFileExampleParsesAndPointsAtItsApisixYaml() throws Exception {
    Path example = Path.of("../examples/standalone-file/config.yaml");
    NodeConfig config = NodeConfig.parse(ConfigLoader.load(example), "host");
    Path apisixYaml = config.standalone().orElseThrow();

    assertThat(apisixYaml)
        .isEqualTo(example.toAbsolutePath().normalize().resolveSibling("apisix.yaml"));
    var resources =
        StandaloneFile.parse(
            Files.readString(apisixYaml),
            apisixYaml.toString(),
            StandaloneFile.Format.YAML,
            Map.<String, String>of()::get);
    assertThat(resources.size()).isEqualTo(2);
  }

  @Test
  void confServerListenIsIpColonPort() {
    NodeConfig config =
        parse(
            ADMIN
                + """
                  role: control_plane
                  role_control_plane:
                    conf_server:
                      listen: 127.0.0.1:19280
                """);

    assertThat(config.confServerListen()).isEqualTo(new Listen("127.0.0.1", 19280));
  }

  @Test
  void refusesWhatCannotWorkNamingTheKeyPath() {
    assertError("deployment:\n  role: gateway\n", "deployment.role", "gateway");
    assertError("deployment:\n  role: control_plane\n", "deployment.admin.admin_key", "required");
    assertError(
        "deployment:\n  role: data_plane\n  role_data_plane:\n    config_provider: json\n"
            + "  fallback_cp:\n    filesystem:\n      path: x\n      config_bucket: c\n"
            + "      resource_bucket: r\n",
        "deployment.role_data_plane.config_provider",
        "fallback_cp");
    assertError(
        "deployment:\n  role: data_plane\n  role_data_plane:\n    config_provider: xml\n",
        "deployment.role_data_plane.config_provider",
        "control_plane, yaml or json");
    assertError(
        "deployment:\n  role: data_plane\n",
        "deployment.role_data_plane.control_plane.host",
        "required");
    assertError(ADMIN + "apisix:\n  node_listen: 70000\n", "apisix.node_listen", "70000");
    assertError(ADMIN + "ballast:\n  data_dri: x\n", "ballast.data_dri", "unknown key");
  }

  private static void assertError(String yaml, String keyPath, String problem) {
    assertThatThrownBy(() -> parse(yaml))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("conf/config.yaml: " + keyPath)
        .hasMessageContaining(problem);
  }

  @Test
  void ignoresApisixSettingsBallastDoesNotImplement() {
    NodeConfig config =
        parse(
            ADMIN
                + "nginx_config:\n  worker_processes: auto\n  error_log_level: warn\n"
                + "plugins: [key-auth]\n");

    assertThat(config.role()).isEqualTo(Role.TRADITIONAL);
    assertThat(config.admin().keys()).hasSize(1);
  }

  @Test
  void workerProcessesSetTheProxysEventLoopsAutoBeingOnePerCpu() {
    int cpus = Runtime.getRuntime().availableProcessors();
    assertThat(parse(ADMIN).workerProcesses()).isEqualTo(cpus);
    assertThat(parse(ADMIN + "nginx_config:\n  worker_processes: auto\n").workerProcesses())
        .isEqualTo(cpus);
    assertThat(parse(ADMIN + "nginx_config:\n  worker_processes: 3\n").workerProcesses())
        .isEqualTo(3);

    for (String bad : List.of("0", "-2", "many", "1025")) {
      assertError(
          ADMIN + "nginx_config:\n  worker_processes: " + bad + "\n",
          "nginx_config.worker_processes",
          "must be auto or a number from 1 to 1024, not '" + bad + "'");
    }
  }
}
