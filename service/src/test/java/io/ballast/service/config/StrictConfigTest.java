package io.ballast.service.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigLoader;
import io.ballast.config.ConfigNode;
import io.ballast.snapshot.FallbackCpConfig;
import io.ballast.storage.StorageBackends;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Unknown keys are refused with the file, the key path and the key meant; known ones load. */
class StrictConfigTest {

  private static final String FILE = "conf/config.yaml";

  private static final String ADMIN =
      """
      deployment:
        admin:
          admin_key:
            - name: admin
              key: secret-admin-key
              role: admin
      """;

  private static ConfigNode load(String yaml) {
    return ConfigLoader.parse(yaml, FILE, Map.<String, String>of()::get);
  }

  private static NodeConfig parse(String yaml) {
    return NodeConfig.parse(load(yaml), "host");
  }

  private static void assertRefused(String yaml, String message) {
    assertThatThrownBy(() -> parse(yaml))
        .isInstanceOf(ConfigException.class)
        .hasMessage(FILE + ": " + message);
  }

  @Test
  void theTyposOfTheIssueAreRefusedWithTheKeyMeant() {
    assertRefused(
        ADMIN + "apisix:\n  node_listn: 9081\n",
        "apisix.node_listn: unknown key; did you mean 'node_listen'?");
    assertRefused(
        ADMIN + "fallback-cp:\n  filesystem:\n    path: x\n",
        "fallback-cp: unknown key; did you mean 'fallback_cp'?");
    assertRefused(
        ADMIN + "  rol: control_plane\n", "deployment.rol: unknown key; did you mean 'role'?");
    assertRefused(
        ADMIN + "  fallbackcp:\n    filesystem:\n      path: x\n",
        "deployment.fallbackcp: unknown key; did you mean 'fallback_cp'?");
  }

  @Test
  void everyCheckedSectionRefusesAnUnknownKey() {
    assertRefused(ADMIN + "apisixx: {}\n", "apisixx: unknown key; did you mean 'apisix'?");
    assertRefused(
        ADMIN + "apisix:\n  ssl:\n    fallback_snii: a.example\n",
        "apisix.ssl.fallback_snii: unknown key; did you mean 'fallback_sni'?");
    assertRefused(
        ADMIN + "apisix:\n  status:\n    adress: 127.0.0.1\n",
        "apisix.status.adress: unknown key; allowed here: ip, port");
    assertRefused(
        ADMIN + "  role_control_plane:\n    conf_servr:\n      listen: 127.0.0.1:9280\n",
        "deployment.role_control_plane.conf_servr: unknown key; did you mean 'conf_server'?");
    assertRefused(
        ADMIN + "  role_data_plane:\n    controlplane:\n      host: [http://cp:9280]\n",
        "deployment.role_data_plane.controlplane: unknown key; did you mean 'control_plane'?");
    assertRefused(
        ADMIN + "  role_traditional:\n    provider: etcd\n",
        "deployment.role_traditional.provider: unknown key; allowed here: config_provider");
    assertRefused(
        ADMIN + "  etcd:\n    hosts: [http://127.0.0.1:2379]\n",
        "deployment.etcd.hosts: unknown key; did you mean 'host'?");
    assertRefused(
        ADMIN + "  etcd:\n    tls:\n      verfy: true\n",
        "deployment.etcd.tls.verfy: unknown key; did you mean 'verify'?");
    assertRefused(
        ADMIN + "ballast:\n  data-dir: x\n",
        "ballast.data-dir: unknown key; did you mean 'data_dir'?");
    assertRefused(
        ADMIN
            + "fallback_cp:\n  filesystem:\n    path: x\n    config_bucket: c\n"
            + "    resource_bucket: r\n  cron-spec: '@every 1m'\n",
        "fallback_cp.cron-spec: unknown key; did you mean 'cron_spec'?");
  }

  @Test
  void aStorageBlockRefusesAnUnknownKeyWhenItsBackendOpens() {
    FallbackCpConfig fallback =
        parse(
                ADMIN
                    + "fallback_cp:\n  filesystem:\n    pth: x\n    config_bucket: c\n"
                    + "    resource_bucket: r\n")
            .fallback()
            .orElseThrow();

    assertThatThrownBy(() -> StorageBackends.open(fallback.backend(), fallback.block()))
        .isInstanceOf(ConfigException.class)
        .hasMessage(FILE + ": fallback_cp.filesystem.pth: unknown key; did you mean 'path'?");
  }

  @Test
  void listenEntriesRefuseUnknownKeys() {
    assertRefused(
        ADMIN + "apisix:\n  node_listen:\n    - {ip: 127.0.0.1, prot: 9080}\n",
        "apisix.node_listen[0].prot: unknown key; did you mean 'port'?");
    assertRefused(
        ADMIN
            + "apisix:\n  ssl:\n    listen:\n      - {port: 9443}\n      - {port: 9444, http2: true}\n",
        "apisix.ssl.listen[1].http2: unknown key; allowed here: enable_http2, enable_http3, ip, port");
    assertRefused(
        ADMIN + "apisix:\n  ssl:\n    listen:\n      - {port: 9443, enable_http3: true}\n",
        "apisix.ssl.listen[0].enable_http3: Ballast does not serve HTTP/3; leave it out");
  }

  @Test
  void anUnrelatedUnknownKeyIsRefusedWithoutASuggestion() {
    assertRefused(
        ADMIN + "apisix:\n  zzz_custom: 1\n",
        "apisix.zzz_custom: unknown key; neither Ballast nor APISIX has it here");
  }

  @Test
  void apisixsOwnKeysLoad() {
    NodeConfig config =
        parse(
            ADMIN
                + """
                  role: traditional
                  role_traditional:
                    config_provider: etcd
                  etcd:
                    host: ["http://127.0.0.1:2379"]
                    prefix: /apisix
                    timeout: 30
                    watch_timeout: 50
                    startup_retry: 2
                    tls:
                      verify: true
                apisix:
                  node_listen: [19080]
                  enable_admin: true
                  enable_dev_mode: false
                  enable_reuseport: true
                  show_upstream_status_in_response_header: false
                  enable_ipv6: true
                  enable_http2: true
                  enable_server_tokens: true
                  extra_lua_path: ""
                  extra_lua_cpath: ""
                  proxy_cache:
                    cache_ttl: 10s
                    zones: [{name: memory_cache, memory_size: 50m}]
                  delete_uri_tail_slash: false
                  normalize_uri_like_servlet: false
                  router: {http: radixtree_host_uri, ssl: radixtree_sni}
                  proxy_mode: http
                  resolver_timeout: 5
                  enable_resolv_search_opt: true
                  ssl:
                    enable: true
                    ssl_protocols: TLSv1.2 TLSv1.3
                    ssl_ciphers: ECDHE-ECDSA-AES128-GCM-SHA256
                    ssl_session_tickets: false
                  enable_control: true
                  disable_sync_configuration_during_start: false
                  worker_startup_time_threshold: 60
                  lru: {secret: {ttl: 300}}
                  tracing: false
                nginx_config:
                  error_log: logs/error.log
                  worker_processes: 2
                  http: {keepalive_timeout: 60s}
                graphql: {max_size: 1048576}
                plugins: [key-auth, prometheus]
                stream_plugins: [ip-restriction]
                plugin_attr:
                  prometheus: {export_uri: /apisix/prometheus/metrics}
                """);

    assertThat(config.workerProcesses()).isEqualTo(2);
  }

  @Test
  void sslProtocolsOtherThanTheOnesServedAreRefused() {
    assertRefused(
        ADMIN + "apisix:\n  ssl:\n    ssl_protocols: TLSv1.3\n",
        "apisix.ssl.ssl_protocols: Ballast serves TLSv1.2 and TLSv1.3 and cannot change them;"
            + " leave the key out or set 'TLSv1.2 TLSv1.3', not 'TLSv1.3'");
  }

  @Test
  void theRepositorysOwnFilesLoad() throws IOException {
    List<Path> files;
    try (Stream<Path> examples = Files.list(Path.of("../examples"))) {
      files =
          Stream.concat(
                  Stream.of(Path.of("../conf/config.yaml")),
                  examples.filter(path -> path.toString().endsWith(".yaml")))
              .toList();
    }
    assertThat(files).hasSizeGreaterThan(2);
    for (Path file : files) {
      ConfigNode root =
          ConfigLoader.parse(
              Files.readString(file),
              file.toString(),
              Map.of("BALLAST_ADMIN_KEY", "an-admin-key-for-this-test")::get);
      assertThat(NodeConfig.parse(root, "host").file()).isEqualTo(file.toString());
    }
  }
}
