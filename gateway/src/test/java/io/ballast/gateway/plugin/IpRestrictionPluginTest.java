package io.ballast.gateway.plugin;

import static io.ballast.gateway.plugin.PluginTesting.config;
import static io.ballast.gateway.plugin.PluginTesting.exchange;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.http.TestRouteRequest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IpRestrictionPluginTest {

  private static Reply run(String plugin, String client) {
    return config()
        .route("{'ip-restriction': " + plugin + "}")
        .run(exchange(TestRouteRequest.get("/").from(client), null));
  }

  private static String body(Reply reply) {
    return new String(reply.body(), StandardCharsets.UTF_8);
  }

  @Test
  void whitelistLetsListedAddressesAndBlocksIn() {
    String plugin = "{'whitelist': ['10.0.0.0/8', '192.168.1.7', 'fe80::/16']}";

    assertThat(run(plugin, "10.20.30.40")).isNull();
    assertThat(run(plugin, "192.168.1.7")).isNull();
    assertThat(run(plugin, "fe80::1")).isNull();

    Reply refused = run(plugin, "192.168.1.8");
    assertThat(refused.status()).isEqualTo(403);
    assertThat(body(refused)).isEqualTo("{\"message\":\"Your IP address is not allowed\"}");
    assertThat(refused.headers().get("Content-Type")).isEqualTo("application/json");
  }

  @Test
  void blacklistKeepsListedAddressesOut() {
    String plugin = "{'blacklist': ['127.0.0.1', '::1']}";

    assertThat(run(plugin, "127.0.0.1").status()).isEqualTo(403);
    assertThat(run(plugin, "::1").status()).isEqualTo(403);
    assertThat(run(plugin, "127.0.0.2")).isNull();
  }

  @Test
  void messageAndResponseCodeAreConfigurable() {
    Reply refused =
        run("{'whitelist': ['10.0.0.1'], 'message': 'Go away', 'response_code': 404}", "10.0.0.2");

    assertThat(refused.status()).isEqualTo(404);
    assertThat(body(refused)).isEqualTo("{\"message\":\"Go away\"}");
  }

  @Test
  void anIpv4MappedClientIsComparedAsIpv4() {
    assertThat(run("{'whitelist': ['10.0.0.0/8']}", "::ffff:10.1.2.3")).isNull();
  }

  @Test
  void eachRefusalIsItsOwnReplySoHeadersAddedToOneDoNotLeakIntoTheNext() {
    PluginTesting.Config config = config().route("{'ip-restriction': {'blacklist': ['10.0.0.1']}}");

    Reply first = config.run(exchange(TestRouteRequest.get("/").from("10.0.0.1"), null));
    first.headers().set("X-Added", "once");
    Reply second = config.run(exchange(TestRouteRequest.get("/").from("10.0.0.1"), null));

    assertThat(second.headers().contains("X-Added")).isFalse();
  }

  @Test
  void aClientWithoutAKnownAddressIsNotOnAnyList() {
    Exchange exchange = exchange(TestRouteRequest.get("/"), null);

    assertThat(config().route("{'ip-restriction': {'whitelist': ['0.0.0.0/0']}}").run(exchange))
        .extracting(Reply::status)
        .isEqualTo(403);
    assertThat(config().route("{'ip-restriction': {'blacklist': ['0.0.0.0/0']}}").run(exchange))
        .isNull();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "{}|plugins.ip-restriction.whitelist: exactly one of whitelist or blacklist is required",
        "{'whitelist': ['1.1.1.1'], 'blacklist': ['2.2.2.2']}"
            + "|plugins.ip-restriction.blacklist: cannot be set together with whitelist",
        "{'whitelist': []}|plugins.ip-restriction.whitelist: must hold at least one",
        "{'whitelist': '1.1.1.1'}|plugins.ip-restriction.whitelist: must be an array of strings",
        "{'blacklist': ['1.1.1.1', 'example.com']}"
            + "|plugins.ip-restriction.blacklist[1]: 'example.com' is not an IPv4 or IPv6",
        "{'whitelist': ['10.0.0.0/33']}|plugins.ip-restriction.whitelist[0]: '10.0.0.0/33' has",
        "{'whitelist': [7]}|plugins.ip-restriction.whitelist[0]: must be a string",
        "{'whitelist': ['1.1.1.1'], 'message': ''}"
            + "|plugins.ip-restriction.message: must be 1 to 1024 characters",
        "{'whitelist': ['1.1.1.1'], 'message': 5}|plugins.ip-restriction.message: must be a string",
        "{'whitelist': ['1.1.1.1'], 'response_code': 401}"
            + "|plugins.ip-restriction.response_code: must be between 403 and 404, got 401",
        "{'whitelist': ['1.1.1.1'], 'response_code': '403'}"
            + "|plugins.ip-restriction.response_code: must be an integer",
        "{'whitelist': ['1.1.1.1'], 'allowlist': ['1.1.1.1']}"
            + "|plugins.ip-restriction.allowlist: is not a field of ip-restriction",
      })
  void refusesBadConfigurationNamingTheField(String plugin, String expected) {
    assertThatThrownBy(() -> config().route("{'ip-restriction': " + plugin + "}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("route 'r1': ")
        .hasMessageContaining(expected);
  }
}
