package io.ballast.gateway.plugin;

import static io.ballast.gateway.plugin.PluginTesting.config;
import static io.ballast.gateway.plugin.PluginTesting.exchange;
import static io.ballast.gateway.plugin.PluginTesting.respond;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.http.TestRouteRequest;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CorsPluginTest {

  /** The response headers for a GET from {@code origin} (null: none sent) through {@code cors}. */
  private static HttpHeaders get(String cors, String origin, String... moreHeaders) {
    PluginTesting.Config config = config().route("{'cors': " + cors + "}");
    String[] headers = headers(origin, moreHeaders);
    Exchange exchange = exchange(TestRouteRequest.get("/api"), null, headers);
    PluginRunner runner = config.runner();
    assertThat(runner.request(exchange).blockOptional()).isEmpty();
    return respond(runner, exchange, 200).headers();
  }

  private static String[] headers(String origin, String... more) {
    if (origin == null) {
      return more;
    }
    String[] all = new String[more.length + 2];
    all[0] = "Origin";
    all[1] = origin;
    System.arraycopy(more, 0, all, 2, more.length);
    return all;
  }

  @Test
  void defaultsAllowAnyOriginWithWildcards() {
    HttpHeaders headers = get("{}", "https://a.example");

    assertThat(headers.get("Access-Control-Allow-Origin")).isEqualTo("*");
    assertThat(headers.contains("Vary")).isFalse();
    assertThat(headers.get("Access-Control-Allow-Methods")).isEqualTo("*");
    assertThat(headers.get("Access-Control-Allow-Headers")).isEqualTo("*");
    assertThat(headers.get("Access-Control-Max-Age")).isEqualTo("5");
    assertThat(headers.contains("Access-Control-Expose-Headers")).isFalse();
    assertThat(headers.contains("Access-Control-Allow-Credentials")).isFalse();
  }

  @Test
  void aListedOriginIsEchoedWithVaryAndEveryConfiguredHeader() {
    String cors =
        "{'allow_origins': 'https://a.example,https://b.example:8443', 'allow_methods': 'GET,POST',"
            + " 'allow_headers': 'X-Token', 'expose_headers': 'X-Trace', 'max_age': 600,"
            + " 'allow_credential': true}";

    HttpHeaders headers = get(cors, "https://b.example:8443");

    assertThat(headers.get("Access-Control-Allow-Origin")).isEqualTo("https://b.example:8443");
    assertThat(headers.getAll("Vary")).containsExactly("Origin");
    assertThat(headers.get("Access-Control-Allow-Methods")).isEqualTo("GET,POST");
    assertThat(headers.get("Access-Control-Allow-Headers")).isEqualTo("X-Token");
    assertThat(headers.get("Access-Control-Expose-Headers")).isEqualTo("X-Trace");
    assertThat(headers.get("Access-Control-Max-Age")).isEqualTo("600");
    assertThat(headers.get("Access-Control-Allow-Credentials")).isEqualTo("true");
  }

  @Test
  void anOriginNotAllowedGetsNoCorsHeadersButStillGoesUpstream() {
    assertThat(
            get("{'allow_origins': 'https://a.example,https://b.example'}", "https://c.example")
                .names())
        .isEmpty();
    assertThat(get("{'allow_origins': 'https://a.example'}", "https://c.example").names())
        .isEmpty();
    assertThat(get("{'allow_origins': 'https://a.example'}", null).names()).isEmpty();
  }

  @Test
  void aSingleAllowedOriginIsAnsweredWithItself() {
    HttpHeaders headers = get("{'allow_origins': 'https://a.example'}", "https://a.example");

    assertThat(headers.get("Access-Control-Allow-Origin")).isEqualTo("https://a.example");
    assertThat(headers.getAll("Vary")).containsExactly("Origin");
  }

  @Test
  void doubleStarAllowsAnyOriginEvenWithCredentialsAndEchoesRequestedHeaders() {
    String cors =
        "{'allow_origins': '**', 'allow_methods': '**', 'allow_headers': '**',"
            + " 'allow_credential': true}";

    HttpHeaders headers =
        get(cors, "https://any.example", "Access-Control-Request-Headers", "X-A, X-B");

    assertThat(headers.get("Access-Control-Allow-Origin")).isEqualTo("https://any.example");
    assertThat(headers.get("Access-Control-Allow-Methods"))
        .isEqualTo("GET,POST,PUT,DELETE,PATCH,HEAD,OPTIONS,CONNECT,TRACE");
    assertThat(headers.get("Access-Control-Allow-Headers")).isEqualTo("X-A, X-B");
    assertThat(headers.get("Access-Control-Allow-Credentials")).isEqualTo("true");
    assertThat(get(cors, null).get("Access-Control-Allow-Origin")).isEqualTo("*");
  }

  @Test
  void regexesAllowOriginsTheListDoesNot() {
    String cors =
        "{'allow_origins': 'https://a.example', "
            + "'allow_origins_by_regex': ['^https://.*\\\\.test\\\\.com$',"
            + " '^http://localhost:\\\\d+$']}";

    assertThat(get(cors, "https://x.test.com").get("Access-Control-Allow-Origin"))
        .isEqualTo("https://x.test.com");
    assertThat(get(cors, "http://localhost:3000").get("Access-Control-Allow-Origin"))
        .isEqualTo("http://localhost:3000");
    assertThat(get(cors, "https://a.example").get("Access-Control-Allow-Origin"))
        .isEqualTo("https://a.example");
    assertThat(get(cors, "https://x.test.com.evil").names()).isEmpty();
  }

  @Test
  void aPreflightIsAnsweredWithoutTheUpstreamAndCarriesTheHeaders() {
    PluginRunner runner =
        config()
            .route("{'cors': {'allow_origins': 'https://a.example,https://b.example'}}")
            .runner();
    Exchange exchange =
        exchange(
            TestRouteRequest.get("/api").method("OPTIONS"),
            null,
            "Origin",
            "https://a.example",
            "Access-Control-Request-Method",
            "PUT");

    Reply reply = runner.request(exchange).block();

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.body()).isEmpty();
    ResponseHead head = new ResponseHead(reply.status(), reply.headers(), false);
    runner.responseHead(exchange, head);
    assertThat(head.headers().get("Access-Control-Allow-Origin")).isEqualTo("https://a.example");
    assertThat(head.headers().get("Access-Control-Allow-Methods")).isEqualTo("*");
  }

  @Test
  void anOptionsRequestThatIsNoPreflightGoesUpstream() {
    PluginRunner runner = config().route("{'cors': {}}").runner();
    Exchange exchange =
        exchange(TestRouteRequest.get("/api").method("OPTIONS"), null, "Origin", "https://a.b");

    assertThat(runner.request(exchange).blockOptional()).isEmpty();
  }

  @Test
  void aReplyFromAnotherPluginCarriesTheHeadersToo() {
    PluginRunner runner =
        config()
            .route(
                "{'cors': {'allow_origins': 'https://a.example'},"
                    + " 'ip-restriction': {'whitelist': ['10.0.0.1']}}")
            .runner();
    Exchange exchange =
        exchange(
            TestRouteRequest.get("/api").from("10.0.0.2"), null, "Origin", "https://a.example");

    Reply reply = runner.request(exchange).block();
    ResponseHead head = new ResponseHead(reply.status(), reply.headers(), false);
    runner.responseHead(exchange, head);

    assertThat(reply.status()).isEqualTo(403);
    assertThat(head.headers().get("Access-Control-Allow-Origin")).isEqualTo("https://a.example");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "{'allow_credential': true}"
            + "|plugins.cors.allow_origins: cannot be '*' when allow_credential is true",
        "{'allow_credential': true, 'allow_origins': 'https://a.b'}"
            + "|plugins.cors.allow_methods: cannot be '*' when allow_credential is true",
        "{'allow_credential': true, 'allow_origins': 'https://a.b', 'allow_methods': 'GET',"
            + " 'allow_headers': '**', 'expose_headers': '*'}"
            + "|plugins.cors.expose_headers: cannot be '*'",
        "{'allow_origins': 'a.example'}|plugins.cors.allow_origins: 'a.example' is not an origin",
        "{'allow_origins': 7}|plugins.cors.allow_origins: must be a string",
        "{'max_age': 'long'}|plugins.cors.max_age: must be an integer",
        "{'max_age': -2}|plugins.cors.max_age: must be between -1 and",
        "{'allow_credential': 'yes'}|plugins.cors.allow_credential: must be true or false",
        "{'allow_origins_by_regex': []}"
            + "|plugins.cors.allow_origins_by_regex: must hold at least one",
        "{'allow_origins_by_regex': 'x'}"
            + "|plugins.cors.allow_origins_by_regex: must be an array of strings",
        "{'allow_origins_by_regex': ['ok', '(']}"
            + "|plugins.cors.allow_origins_by_regex[1]: is not a valid regex",
        "{'allow_origins_by_regex': ['a', 'a']}"
            + "|plugins.cors.allow_origins_by_regex[1]: repeats 'a'",
        "{'allow_origins_by_metadata': ['x']}"
            + "|plugins.cors.allow_origins_by_metadata: is not supported by Ballast",
        "{'timing_allow_origins': '*'}|plugins.cors.timing_allow_origins: is not supported",
        "{'allow_origin': '*'}|plugins.cors.allow_origin: is not a field of cors",
      })
  void refusesBadConfigurationNamingTheField(String cors, String expected) {
    assertThatThrownBy(() -> config().route("{'cors': " + cors + "}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("route 'r1': ")
        .hasMessageContaining(expected);
  }
}
