package io.ballast.gateway.plugin;

import static io.ballast.gateway.plugin.PluginTesting.config;
import static io.ballast.gateway.plugin.PluginTesting.exchange;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.http.TestRouteRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProxyRewritePluginTest {

  /** Runs {@code plugin} over {@code request} with {@code query}; the exchange afterwards. */
  private static Exchange rewrite(
      String plugin, TestRouteRequest request, String query, String... headers) {
    Exchange exchange = exchange(request, query, headers);
    Reply reply = config().route("{'proxy-rewrite': " + plugin + "}").run(exchange);
    assertThat(reply).isNull();
    return exchange;
  }

  @Test
  void uriReplacesThePathAndKeepsTheQuery() {
    Exchange exchange = rewrite("{'uri': '/v2/items'}", TestRouteRequest.get("/items"), "a=1&b=2");

    assertThat(exchange.upstreamUri()).isEqualTo("/v2/items?a=1&b=2");
  }

  @Test
  void aUriWithItsOwnQueryGetsTheClientsAppendedWithAmpersandAsApisixDoes() {
    assertThat(rewrite("{'uri': '/new?x=1'}", TestRouteRequest.get("/old"), "a=1").upstreamUri())
        .isEqualTo("/new?x=1&a=1");
    assertThat(rewrite("{'uri': '/new?x=1'}", TestRouteRequest.get("/old"), null).upstreamUri())
        .isEqualTo("/new?x=1");
  }

  @Test
  void uriResolvesVariablesAndEscapesQuestionMarksInTheirValues() {
    TestRouteRequest request = TestRouteRequest.get("/old").arg("id", "4?2").header("X-V", "b c");

    Exchange exchange =
        rewrite("{'uri': '/u$uri/${arg_id}/$http_x_v/$arg_missing'}", request, "id=4%3F2");

    assertThat(exchange.upstreamUri()).isEqualTo("/u/old/4%3F2/b%20c/?id=4%3F2");
  }

  @Test
  void anUnknownVariableIsRefusedRatherThanSentEmpty() {
    assertThatThrownBy(() -> config().route("{'proxy-rewrite': {'uri': '/$balancer_ip'}}"))
        .hasMessage(
            "route 'r1': plugins.proxy-rewrite.uri: names variable $balancer_ip, unknown to"
                + " Ballast");
  }

  @Test
  void regexUriUsesTheFirstMatchingPairAndKeepsTheRestOfThePath() {
    String plugin = "{'regex_uri': ['^/api/(\\\\w+)/(\\\\w+)', '/$2/$1', '^/other', '/o']}";

    assertThat(rewrite(plugin, TestRouteRequest.get("/api/a/b/c"), "q=1").upstreamUri())
        .isEqualTo("/b/a/c?q=1");
    assertThat(rewrite(plugin, TestRouteRequest.get("/other/x"), null).upstreamUri())
        .isEqualTo("/o/x");
    assertThat(rewrite(plugin, TestRouteRequest.get("/none"), "q=1").upstreamUri())
        .isEqualTo("/none?q=1");
  }

  @Test
  void uriWinsOverRegexUriAsInApisix() {
    String plugin = "{'uri': '/fixed', 'regex_uri': ['^/(.*)', '/re/$1']}";

    assertThat(rewrite(plugin, TestRouteRequest.get("/x"), null).upstreamUri()).isEqualTo("/fixed");
  }

  @Test
  void methodAndHostAreSet() {
    Exchange exchange =
        rewrite(
            "{'method': 'POST', 'host': 'backend.internal:8080'}", TestRouteRequest.get("/"), null);

    assertThat(exchange.upstreamMethod()).isEqualTo("POST");
    assertThat(exchange.upstreamHost()).isEqualTo("backend.internal:8080");
  }

  @Test
  void headerActionsRunAddThenSetThenRemoveWithVariablesAndCaptures() {
    String plugin =
        "{'regex_uri': ['^/u/(\\\\d+)', '/users/$1'], 'headers': {"
            + "'add': {'X-Via': 'ballast', 'X-User': 'u-$1'},"
            + "'set': {'X-Method': '$request_method', 'X-Replace': 'new', 'X-Port': 8080},"
            + "'remove': ['X-Secret', 'X-Via']}}";

    Exchange exchange =
        rewrite(
            plugin,
            TestRouteRequest.get("/u/42"),
            null,
            "X-Replace",
            "old",
            "X-Secret",
            "s3cr3t",
            "X-User",
            "first");

    assertThat(exchange.upstreamUri()).isEqualTo("/users/42");
    assertThat(exchange.upstreamHeaders().getAll("X-User")).containsExactly("first", "u-42");
    assertThat(exchange.upstreamHeaders().get("X-Method")).isEqualTo("GET");
    assertThat(exchange.upstreamHeaders().getAll("X-Replace")).containsExactly("new");
    assertThat(exchange.upstreamHeaders().get("X-Port")).isEqualTo("8080");
    assertThat(exchange.upstreamHeaders().contains("X-Secret")).isFalse();
    assertThat(exchange.upstreamHeaders().contains("X-Via")).isFalse();
  }

  @Test
  void aCaptureOfARegexThatDidNotMatchIsEmpty() {
    String plugin = "{'regex_uri': ['^/u/(\\\\d+)', '/users/$1'], 'headers': {'X-User': 'u-$1'}}";

    Exchange exchange = rewrite(plugin, TestRouteRequest.get("/other"), null);

    assertThat(exchange.upstreamHeaders().get("X-User")).isEqualTo("u-");
  }

  @Test
  void theOlderFlatHeadersObjectSetsAndSettingHostSetsTheUpstreamHost() {
    Exchange exchange =
        rewrite(
            "{'headers': {'X-Api-Version': 'v2', 'Host': 'api.internal'}}",
            TestRouteRequest.get("/"),
            null,
            "X-Api-Version",
            "v1");

    assertThat(exchange.upstreamHeaders().getAll("X-Api-Version")).containsExactly("v2");
    assertThat(exchange.upstreamHost()).isEqualTo("api.internal");
  }

  @Test
  void aDollarAfterABackslashStaysAsWrittenWithTheBackslashAsInApisix() {
    Exchange exchange =
        rewrite("{'headers': {'X-Price': '\\\\$5'}}", TestRouteRequest.get("/"), null);

    assertThat(exchange.upstreamHeaders().get("X-Price")).isEqualTo("\\$5");
  }

  @Test
  void aDollarThatStartsNoVariableStaysAsWrittenAsInApisix() {
    Exchange exchange =
        rewrite(
            "{'uri': '/a$', 'headers': {'X-A': 'cost: $ 5, ${open'}}",
            TestRouteRequest.get("/"),
            null);

    assertThat(exchange.upstreamUri()).isEqualTo("/a$");
    assertThat(exchange.upstreamHeaders().get("X-A")).isEqualTo("cost: $ 5, ${open");
  }

  @Test
  void aDefaultStandsInForAMissingValueAndIsEscapedLikeOne() {
    Exchange exchange =
        rewrite(
            "{'uri': '/u/${arg_id ?? a?b}', 'headers': {'X-Id': '${arg_id??none}'}}",
            TestRouteRequest.get("/"),
            null);

    assertThat(exchange.upstreamUri()).isEqualTo("/u/a%3Fb");
    assertThat(exchange.upstreamHeaders().get("X-Id")).isEqualTo("none");
  }

  @Test
  void aRegexUriReplacementReadsAsNgxReSubs() {
    String plugin = "{'regex_uri': ['^/p/(\\\\w+)', '/price/$$${1}/\\\\$1']}";

    assertThat(rewrite(plugin, TestRouteRequest.get("/p/x"), null).upstreamUri())
        .isEqualTo("/price/$x/%5Cx");
  }

  @Test
  void aVariableNameRunsOverDotsAsInApisix() {
    assertThatThrownBy(() -> config().route("{'proxy-rewrite': {'uri': '/$uri.json'}}"))
        .hasMessage(
            "route 'r1': plugins.proxy-rewrite.uri: names variable $uri.json, unknown to Ballast"
                + " (write ${uri} to end the name before the '.')");
    assertThat(rewrite("{'uri': '/v${uri}.json'}", TestRouteRequest.get("/a"), null).upstreamUri())
        .isEqualTo("/v/a.json");
  }

  @Test
  void useRealRequestUriUnsafeSendsTheRequestUriAsReceived() {
    Exchange exchange =
        rewrite("{'use_real_request_uri_unsafe': true}", TestRouteRequest.get("/a%2Fb"), "x=%20");

    assertThat(exchange.upstreamUri()).isEqualTo("/a%2Fb?x=%20");
  }

  @Test
  void aPathIsSafelyEncoded() {
    assertThat(ProxyRewritePlugin.safeEncode("/a b/ü/%41/?#"))
        .isEqualTo("/a%20b/%C3%BC/%41/%3F%23");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "{}|plugins.proxy-rewrite: must set at least one field",
        "{'_meta': {'disable': false}}|plugins.proxy-rewrite: must set at least one field",
        "{'uri': 'no-slash'}|plugins.proxy-rewrite.uri: must start with '/'",
        "{'uri': 5}|plugins.proxy-rewrite.uri: must be a string",
        "{'uri': '/$1'}|plugins.proxy-rewrite.uri: names capture $1",
        "{'regex_uri': ['^/a']}|plugins.proxy-rewrite.regex_uri: must hold pairs",
        "{'regex_uri': ['^/a', '/b', '^/c']}|plugins.proxy-rewrite.regex_uri: must hold pairs",
        "{'regex_uri': '^/a'}|plugins.proxy-rewrite.regex_uri: must be an array of strings",
        "{'regex_uri': ['^/(a', '/b']}|plugins.proxy-rewrite.regex_uri[0]: is not a valid regex",
        "{'regex_uri': ['^/a', '/x', '^/(b)', '/$2']}"
            + "|plugins.proxy-rewrite.regex_uri[3]: names capture $2 but the regex has 1 group(s)",
        "{'regex_uri': ['^/a', '/$uri']}"
            + "|plugins.proxy-rewrite.regex_uri[1]: names variable $uri",
        "{'regex_uri': ['^/a', '/$']}"
            + "|plugins.proxy-rewrite.regex_uri[1]: has a '$' at 1 that names no capture",
        "{'headers': {'set': {'X-A': '${1 ?? x}'}}, 'regex_uri': ['^/(a)', '/b']}"
            + "|plugins.proxy-rewrite.headers.set.X-A: names capture 1 in a form",
        "{'method': 'FETCH'}|plugins.proxy-rewrite.method: 'FETCH' is not one of GET",
        "{'host': 'a b'}|plugins.proxy-rewrite.host: 'a b' is not a host name",
        "{'host': 'a:123456'}|plugins.proxy-rewrite.host: 'a:123456' is not a host name",
        "{'headers': 'X'}|plugins.proxy-rewrite.headers: must be an object",
        "{'headers': {}}|plugins.proxy-rewrite.headers: must not be empty",
        "{'headers': {'X-A': true}}"
            + "|plugins.proxy-rewrite.headers.X-A: must be a string or a number",
        "{'headers': {'X A': 'v'}}|plugins.proxy-rewrite.headers.X A: 'X A' is not a valid header",
        "{'headers': {'set': {'X-A': 'v'}, 'delete': ['X-B']}}"
            + "|plugins.proxy-rewrite.headers.delete: is not a field of proxy-rewrite",
        "{'headers': {'set': {}, 'remove': ['X']}}"
            + "|plugins.proxy-rewrite.headers.set: must not be empty",
        "{'headers': {'remove': []}}|plugins.proxy-rewrite.headers.remove: must not be empty",
        "{'headers': {'remove': ['a:b']}}"
            + "|plugins.proxy-rewrite.headers.remove[0]: 'a:b' is not a valid header name",
        "{'headers': {'add': {'Host': 'h'}}}"
            + "|plugins.proxy-rewrite.headers.add.Host: cannot be added",
        "{'headers': {'set': {'X-A': '$nope'}}}"
            + "|plugins.proxy-rewrite.headers.set.X-A: names variable",
        "{'headers': {'set': {'X-A': '$1'}}}"
            + "|plugins.proxy-rewrite.headers.set.X-A: names capture $1",
        "{'use_real_request_uri_unsafe': 1}"
            + "|plugins.proxy-rewrite.use_real_request_uri_unsafe: must be true or false",
        "{'scheme': 'https'}|plugins.proxy-rewrite.scheme: is not supported",
        "{'url': '/a'}|plugins.proxy-rewrite.url: is not a field of proxy-rewrite",
      })
  void refusesBadConfigurationNamingTheField(String plugin, String expected) {
    assertThatThrownBy(() -> config().route("{'proxy-rewrite': " + plugin + "}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("route 'r1': ")
        .hasMessageContaining(expected);
  }
}
