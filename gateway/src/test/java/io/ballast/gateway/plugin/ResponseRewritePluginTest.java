package io.ballast.gateway.plugin;

import static io.ballast.gateway.plugin.PluginTesting.config;
import static io.ballast.gateway.plugin.PluginTesting.exchange;
import static io.ballast.gateway.plugin.PluginTesting.respond;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.http.TestRouteRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ResponseRewritePluginTest {

  private static ResponseHead rewrite(String plugins, TestRouteRequest request, int status) {
    PluginTesting.Config config = config().route(plugins);
    Exchange exchange = exchange(request, null);
    assertThat(config.run(exchange)).isNull();
    return respond(config.runner(), exchange, status);
  }

  private static String body(ResponseHead head) {
    return head.replacementBody() == null
        ? null
        : new String(head.replacementBody(), StandardCharsets.UTF_8);
  }

  @Test
  void setsStatusAndReplacesBodyAndClearsHeadersOfTheOldBody() {
    PluginTesting.Config config =
        config().route("{'response-rewrite': {'status_code': 403, 'body': 'nope'}}");
    Exchange exchange = exchange(TestRouteRequest.get("/a"), null);
    ResponseHead head = new ResponseHead(200, new DefaultHttpHeaders(), true);
    head.headers().set("ETag", "\"v1\"").set("Content-Encoding", "gzip").set("Content-Length", "9");

    config.runner().responseHead(exchange, head);

    assertThat(head.status()).isEqualTo(403);
    assertThat(body(head)).isEqualTo("nope");
    assertThat(head.headers().get("Content-Length")).isEqualTo("4");
    assertThat(head.headers().contains("ETag")).isFalse();
    assertThat(head.headers().contains("Content-Encoding")).isFalse();
  }

  @Test
  void decodesABase64BodyOnce() {
    ResponseHead head =
        rewrite(
            "{'response-rewrite': {'body': 'aGVsbG8=', 'body_base64': true}}",
            TestRouteRequest.get("/a"),
            200);
    assertThat(body(head)).isEqualTo("hello");
  }

  @Test
  void leavesTheBodyAloneWithoutBody() {
    ResponseHead head =
        rewrite("{'response-rewrite': {'status_code': 201}}", TestRouteRequest.get("/a"), 200);
    assertThat(head.status()).isEqualTo(201);
    assertThat(head.replacementBody()).isNull();
  }

  @Test
  void addsThenSetsThenRemovesHeadersWithVariables() {
    ResponseHead head =
        rewrite(
            "{'response-rewrite': {'headers': {"
                + "'add': ['X-Seen: $uri', 'Set-Cookie: a=1'],"
                + "'set': {'X-Status': 'code $status', 'X-Who': '${arg_who ?? nobody}',"
                + " 'X-Route': '${route_id}', 'X-Count': 3, 'X-Gone': '$http_x_missing'},"
                + "'remove': ['Server']}}}",
            TestRouteRequest.get("/hello"),
            200);
    assertThat(head.headers().getAll("X-Seen")).containsExactly("/hello");
    assertThat(head.headers().get("X-Status")).isEqualTo("code 200");
    assertThat(head.headers().get("X-Who")).isEqualTo("nobody");
    assertThat(head.headers().get("X-Route")).isEqualTo("r1");
    assertThat(head.headers().get("X-Count")).isEqualTo("3");
    assertThat(head.headers().get("X-Gone")).isEmpty();
    assertThat(head.headers().get("Set-Cookie")).isEqualTo("a=1");
  }

  @Test
  void addKeepsTheUpstreamsValueAndRemoveDropsIt() {
    PluginTesting.Config config =
        config()
            .route(
                "{'response-rewrite': {'headers': {'add': ['Vary: Origin'], 'remove': ['Server']}}}");
    Exchange exchange = exchange(TestRouteRequest.get("/a"), null);
    ResponseHead head = new ResponseHead(200, new DefaultHttpHeaders(), true);
    head.headers().set("Vary", "Accept").set("Server", "upstream");

    config.runner().responseHead(exchange, head);

    assertThat(head.headers().getAll("Vary")).containsExactly("Accept", "Origin");
    assertThat(head.headers().contains("Server")).isFalse();
  }

  @Test
  void theFlatHeadersObjectSetsHeadersAndSeesTheNewStatus() {
    ResponseHead head =
        rewrite(
            "{'response-rewrite': {'status_code': 503, 'headers': {'X-A': 'a', 'X-S': '$status'}}}",
            TestRouteRequest.get("/a").arg("who", "ann"),
            200);
    assertThat(head.headers().get("X-A")).isEqualTo("a");
    assertThat(head.headers().get("X-S")).isEqualTo("503");
  }

  @Test
  void anEscapedDollarIsNotAVariable() {
    ResponseHead head =
        rewrite(
            "{'response-rewrite': {'headers': {'set': {'X-Price': '\\\\$5'}}}}",
            TestRouteRequest.get("/a"),
            200);
    assertThat(head.headers().get("X-Price")).isEqualTo("\\$5");
  }

  @Test
  void rewritesOnlyWhenVarsMatchTheRequest() {
    String plugins =
        "{'response-rewrite': {'vars': [['arg_debug', '==', '1']], 'status_code': 299}}";
    assertThat(rewrite(plugins, TestRouteRequest.get("/a").arg("debug", "1"), 200).status())
        .isEqualTo(299);
    assertThat(rewrite(plugins, TestRouteRequest.get("/a").arg("debug", "0"), 200).status())
        .isEqualTo(200);
    assertThat(rewrite(plugins, TestRouteRequest.get("/a"), 200).status()).isEqualTo(200);
  }

  @Test
  void varsReadTheResponseStatusAndGatewayVariables() {
    String plugins =
        "{'response-rewrite': {'vars': [['status', '>=', 500], ['route_id', '==', 'r1'],"
            + " ['uri', '~~', '^/api/']], 'body': 'down'}}";
    assertThat(body(rewrite(plugins, TestRouteRequest.get("/api/x"), 502))).isEqualTo("down");
    assertThat(body(rewrite(plugins, TestRouteRequest.get("/api/x"), 404))).isNull();
    assertThat(body(rewrite(plugins, TestRouteRequest.get("/web/x"), 502))).isNull();
  }

  @Test
  void negatedStatusVars() {
    String plugins =
        "{'response-rewrite': {'vars': [['status', '!', 'in', ['200', '204']]],"
            + " 'headers': {'X-Failed': 'yes'}}}";
    assertThat(rewrite(plugins, TestRouteRequest.get("/a"), 200).headers().contains("X-Failed"))
        .isFalse();
    assertThat(rewrite(plugins, TestRouteRequest.get("/a"), 500).headers().get("X-Failed"))
        .isEqualTo("yes");
  }

  @Test
  void rewritesAPluginsReplyToo() {
    PluginTesting.Config config =
        config().route("{'response-rewrite': {'body': 'custom', 'headers': {'X-A': 'a'}}}");
    Exchange exchange = exchange(TestRouteRequest.get("/a"), null);
    Reply reply = Reply.message(401, "Missing API key in request");
    ResponseHead head = new ResponseHead(reply.status(), reply.headers(), false);

    config.runner().responseHead(exchange, head);

    assertThat(head.status()).isEqualTo(401);
    assertThat(body(head)).isEqualTo("custom");
    assertThat(head.headers().get("X-A")).isEqualTo("a");
  }

  @Test
  void aSharedConfigurationServesManyResponses() {
    PluginTesting.Config config =
        config().route("{'response-rewrite': {'headers': {'set': {'X-Path': '$uri'}}}}");
    for (String path : List.of("/one", "/two")) {
      Exchange exchange = exchange(TestRouteRequest.get(path), null);
      assertThat(respond(config.runner(), exchange, 200).headers().get("X-Path")).isEqualTo(path);
    }
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          {'colour': 1}                                   | plugins.response-rewrite.colour: is not a field
          {'status_code': 199}                            | plugins.response-rewrite.status_code: must be between 200 and 598
          {'status_code': 599}                            | plugins.response-rewrite.status_code: must be between 200 and 598
          {'status_code': '200'}                          | plugins.response-rewrite.status_code: must be an integer
          {'body': 5}                                     | plugins.response-rewrite.body: must be a string
          {'body_base64': 'yes', 'body': 'aA=='}          | plugins.response-rewrite.body_base64: must be true or false
          {'body_base64': true}                           | plugins.response-rewrite.body: is required
          {'body_base64': true, 'body': '%%%'}            | plugins.response-rewrite.body: is not valid base64
          {'filters': [{'regex': 'a', 'replace': 'b'}]}   | plugins.response-rewrite.filters: is not supported
          {'headers': 'X-A: 1'}                           | plugins.response-rewrite.headers: must be an object
          {'headers': {}}                                 | plugins.response-rewrite.headers: must name at least one header
          {'headers': {'X-A': true}}                      | plugins.response-rewrite.headers.X-A: must be a string
          {'headers': {'X A': 'v'}}                       | plugins.response-rewrite.headers.X A: 'X A' is not a valid header name
          {'headers': {'X-A': 'a\\nb'}}                   | plugins.response-rewrite.headers.X-A: must not contain a line break
          {'headers': {'X-A': '$no_such_var'}}            | plugins.response-rewrite.headers.X-A: names variable $no_such_var, unknown to Ballast
          {'headers': {'X-A': '$1'}}                      | plugins.response-rewrite.headers.X-A: names capture $1
          {'headers': {'set': {}, 'add': ['X-A: 1']}}     | plugins.response-rewrite.headers.set: must name at least one header
          {'headers': {'add': []}}                        | plugins.response-rewrite.headers.add: must not be empty
          {'headers': {'add': ['X-A']}}                   | plugins.response-rewrite.headers.add[0]: must be "Name: value"
          {'headers': {'add': ['X-A: http://x']}}         | plugins.response-rewrite.headers.add[0]: must be "Name: value"
          {'headers': {'add': ['X-A:1']}}                 | plugins.response-rewrite.headers.add[0]: must be "Name: value"
          {'headers': {'add': ['X-A: a/']}}               | plugins.response-rewrite.headers.add[0]: must be "Name: value"
          {'headers': {'add': [7]}}                       | plugins.response-rewrite.headers.add[0]: must be a string
          {'headers': {'remove': ['X:A']}}                | plugins.response-rewrite.headers.remove[0]: 'X:A' is not a valid header name
          {'headers': {'remove': ['X-A'], 'copy': []}}    | plugins.response-rewrite.headers.copy: is not a field
          {'vars': 'x'}                                   | plugins.response-rewrite.vars: must be an array
          {'vars': [['upstream_status', '==', 500]]}      | plugins.response-rewrite.vars[0][0]: unknown variable 'upstream_status'; use a request variable
          {'vars': [['arg_a', '==', '1'], ['status', '>=', 'x']]} | plugins.response-rewrite.vars[1][2]: must be a number for >=
          {'vars': [['status', '==']]}                    | plugins.response-rewrite.vars[0]: must be [var, operator, value]
          {'vars': [['status', '!', 'in', 5]]}            | plugins.response-rewrite.vars[0][3]: must be an array for in
          {'vars': [['arg_a', '=~', 1]]}                  | plugins.response-rewrite.vars[0][1]: unknown operator
          {'vars': [['arg_a', '~~', '(']]}                | plugins.response-rewrite.vars[0][2]: '(' is not a valid regex
          """)
  void refusesBadConfigurationNamingTheField(String conf, String message) {
    assertThatThrownBy(() -> config().route("{'response-rewrite': " + conf + "}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("route 'r1': ")
        .hasMessageContaining(message);
  }
}
