package io.ballast.service.config;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ballast.config.ConfigLoader;
import io.ballast.config.ConfigNode;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class IgnoredKeysTest {

  private static ConfigNode load(String yaml) {
    return ConfigLoader.parse(yaml, "conf/config.yaml", Map.<String, String>of()::get);
  }

  private static final String APISIX_FILE =
      """
      apisix:
        node_listen: 9080
        proxy_cache: {cache_ttl: 10s}
        router: {http: radixtree_host_uri}
        ssl:
          enable: true
          ssl_ciphers: ECDHE-RSA-AES128-GCM-SHA256
      nginx_config:
        worker_processes: auto
        error_log: logs/error.log
      plugins: [key-auth]
      plugin_attr:
        prometheus: {export_uri: /metrics, export_addr: {ip: 127.0.0.1, port: 9091}}
        skywalking: {service_name: APISIX}
      deployment:
        role: traditional
        role_traditional: {config_provider: etcd}
        etcd: {host: ["http://127.0.0.1:2379"], prefix: /apisix}
      """;

  @Test
  void findsEveryKeyBallastAcceptsButDoesNotUse() {
    assertThat(IgnoredKeys.find(load(APISIX_FILE)))
        .containsExactly(
            "plugins (every plugin Ballast has is enabled)",
            "apisix.proxy_cache (nginx cache; proxy-cache is not implemented)",
            "apisix.router (Ballast has one router)",
            "apisix.ssl.ssl_ciphers (the TLS library's default suites are used)",
            "nginx_config.error_log (nginx setting)",
            "plugin_attr.prometheus.export_uri (not implemented)",
            "plugin_attr.skywalking (not implemented)",
            "deployment.role_traditional.config_provider"
                + " (a node holding configuration uses its own store)",
            "deployment.etcd.host (Ballast uses no etcd)",
            "deployment.etcd.prefix (Ballast uses no etcd)");
  }

  @Test
  void etcdHostIsUsedAsADataPlanesControlPlaneAddress() {
    ConfigNode root =
        load(
            """
            deployment:
              role: data_plane
              etcd: {host: ["http://127.0.0.1:9280"], prefix: /apisix}
            """);

    assertThat(IgnoredKeys.find(root))
        .containsExactly("deployment.etcd.prefix (Ballast uses no etcd)");
  }

  @Test
  void keysBallastReadsAreNotReported() {
    ConfigNode root =
        load(
            """
            apisix:
              node_listen: 9080
              enable_http2: true
              ssl: {enable: true, fallback_sni: a.example}
              status: {ip: 127.0.0.1, port: 7085}
            nginx_config: {worker_processes: 2}
            plugin_attr: {prometheus: {export_addr: {ip: 127.0.0.1, port: 9091}}}
            """);

    assertThat(IgnoredKeys.find(root)).isEmpty();
  }

  @Test
  void logsOneInfoLineNamingTheFileAndTheKeys() {
    Logger logger = (Logger) LoggerFactory.getLogger(IgnoredKeys.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      IgnoredKeys.log(load(APISIX_FILE));
      IgnoredKeys.log(load("apisix:\n  node_listen: 9080\n"));
    } finally {
      logger.detachAppender(appender);
    }

    assertThat(appender.list).hasSize(1);
    ILoggingEvent event = appender.list.get(0);
    assertThat(event.getLevel()).isEqualTo(Level.INFO);
    assertThat(event.getFormattedMessage())
        .startsWith("conf/config.yaml: ignoring settings Ballast does not use (see the README): ")
        .contains("apisix.proxy_cache (nginx cache; proxy-cache is not implemented), ")
        .endsWith("deployment.etcd.prefix (Ballast uses no etcd)")
        .doesNotContain("\n");
  }
}
