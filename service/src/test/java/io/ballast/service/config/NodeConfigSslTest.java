package io.ballast.service.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigLoader;
import io.ballast.service.config.SslConfig.TlsListen;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeConfigSslTest {

  private static final String ADMIN =
      """
      deployment:
        admin:
          admin_key:
            - name: admin
              key: secret-admin-key
              role: admin
      """;

  private static SslConfig parse(String apisix) {
    return NodeConfig.parse(
            ConfigLoader.parse(
                ADMIN + "apisix:\n" + apisix.indent(2),
                "conf/config.yaml",
                Map.<String, String>of()::get),
            "host")
        .ssl();
  }

  @Test
  void noTlsListenerUnlessSslListenIsSet() {
    SslConfig ssl = parse("node_listen: 9080\nssl:\n  ssl_protocols: TLSv1.2 TLSv1.3\n");

    assertThat(ssl.listen()).isEmpty();
    assertThat(ssl.fallback()).isEmpty();
  }

  @Test
  void readsApisixThreeStyle() {
    SslConfig ssl =
        parse(
            """
            enable_http2: false
            ssl:
              enable: true
              listen:
                - port: 9443
                - ip: 127.0.0.1
                  port: 9444
                  enable_http3: false
              fallback_sni: default.example.com
            """);

    assertThat(ssl.listen())
        .containsExactly(
            new TlsListen("0.0.0.0", 9443, false), new TlsListen("127.0.0.1", 9444, false));
    assertThat(ssl.fallback()).contains("default.example.com");
  }

  @Test
  void http2IsOnByDefaultAndAnEntrysOlderEnableHttp2OverridesIt() {
    SslConfig ssl =
        parse("ssl:\n  listen:\n    - 9443\n    - port: 9444\n      enable_http2: false\n");

    assertThat(ssl.listen())
        .containsExactly(
            new TlsListen("0.0.0.0", 9443, true), new TlsListen("0.0.0.0", 9444, false));
  }

  @Test
  void aSinglePortIsAListOfOne() {
    assertThat(parse("ssl:\n  listen: 8443\n").listen())
        .containsExactly(new TlsListen("0.0.0.0", 8443, true));
  }

  @Test
  void disabledSslOpensNothing() {
    assertThat(parse("ssl:\n  enable: false\n  listen: [9443]\n").listen()).isEmpty();
  }

  @Test
  void errorsNameTheKey() {
    assertError("ssl:\n  listen: [70000]\n", "apisix.ssl.listen[0]", "70000");
    assertError("ssl:\n  listen:\n    - ip: 0.0.0.0\n", "apisix.ssl.listen[0].port", "port");
    assertError(
        "ssl:\n  listen:\n    - port: 9443\n      enable_http2: yes-please\n",
        "apisix.ssl.listen[0].enable_http2",
        "true or false");
    assertError("ssl:\n  listen: []\n", "apisix.ssl.listen", "at least one");
    assertError("ssl:\n  enable: maybe\n", "apisix.ssl.enable", "true or false");
    assertError("enable_http2: 2\n", "apisix.enable_http2", "true or false");
    assertError("ssl:\n  fallback_sni: '*.example.com'\n", "apisix.ssl.fallback_sni", "host name");
    assertError("ssl: 9443\n", "apisix.ssl", "mapping");
  }

  private static void assertError(String apisix, String keyPath, String problem) {
    assertThatThrownBy(() -> parse(apisix))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("conf/config.yaml: " + keyPath)
        .hasMessageContaining(problem);
  }
}
