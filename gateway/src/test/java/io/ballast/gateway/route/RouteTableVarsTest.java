package io.ballast.gateway.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.http.TestRouteRequest;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

class RouteTableVarsTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  /** A table of one route on '/' whose vars are {@code vars} (JSON with ' for "). */
  private static RouteTable withVars(String vars) {
    ObjectNode value =
        (ObjectNode)
            JSON.readTree(
                ("{'uri': '/', 'vars': " + vars + ", 'upstream': {'nodes': {'a:80': 1}}}")
                    .replace('\'', '"'));
    return RouteTable.compile(
        List.of(Resource.parse(ResourceType.ROUTES, "r1", value)), Map.of(), Map.of());
  }

  private static boolean hits(String vars, TestRouteRequest request) {
    return withVars(vars).match(request).isPresent();
  }

  private static TestRouteRequest req() {
    return TestRouteRequest.get("/");
  }

  @Test
  void equalityOnArgsHeadersAndCookies() {
    String vars = "[['arg_name', '==', 'json'], ['http_x_api_version', '==', 'v2']]";
    assertThat(hits(vars, req().arg("name", "json").header("X-Api-Version", "v2"))).isTrue();
    assertThat(hits(vars, req().arg("name", "json").header("x-api-version", "v1"))).isFalse();
    assertThat(hits(vars, req().arg("name", "json"))).isFalse();
    assertThat(hits(vars, req().arg("name", "xml").header("X-Api-Version", "v2"))).isFalse();
    assertThat(hits("[['cookie_session', '==', 'abc']]", req().cookie("session", "abc"))).isTrue();
    assertThat(hits("[['cookie_session', '==', 'abc']]", req().cookie("other", "abc"))).isFalse();
    assertThat(hits("[['arg_a', '==', 'x']]", req().arg("a", "x").arg("a", "y")))
        .as("the first value counts")
        .isTrue();
  }

  @Test
  void notEqualHoldsForAbsentVariables() {
    assertThat(hits("[['arg_a', '~=', 'x']]", req())).isTrue();
    assertThat(hits("[['arg_a', '~=', 'x']]", req().arg("a", "y"))).isTrue();
    assertThat(hits("[['arg_a', '~=', 'x']]", req().arg("a", "x"))).isFalse();
    assertThat(hits("[['arg_a', '==', null]]", req())).isTrue();
    assertThat(hits("[['arg_a', '==', null]]", req().arg("a", "x"))).isFalse();
  }

  @Test
  void numbersCompareNumerically() {
    assertThat(hits("[['arg_n', '==', 5]]", req().arg("n", "5.0"))).isTrue();
    assertThat(hits("[['arg_n', '==', 5]]", req().arg("n", "five"))).isFalse();
    assertThat(hits("[['arg_n', '==', '5']]", req().arg("n", "5.0"))).isFalse();
    assertThat(hits("[['arg_n', '~=', 5]]", req().arg("n", "five"))).isTrue();
    assertThat(hits("[['arg_n', '>', 10]]", req().arg("n", "11"))).isTrue();
    assertThat(hits("[['arg_n', '>', 10]]", req().arg("n", "9"))).isFalse();
    assertThat(hits("[['arg_n', '>', '10']]", req().arg("n", "0x10"))).isTrue();
    assertThat(hits("[['arg_n', '<', 10]]", req().arg("n", " 9.5 "))).isTrue();
    assertThat(hits("[['arg_n', '<', 10]]", req().arg("n", "x"))).isFalse();
    assertThat(hits("[['arg_n', '<', 10]]", req())).isFalse();
    assertThat(hits("[['arg_n', '>=', 10]]", req().arg("n", "10"))).isTrue();
    assertThat(hits("[['arg_n', '<=', 10]]", req().arg("n", "10"))).isTrue();
  }

  @Test
  void regexesSearchAndMayIgnoreCase() {
    assertThat(
            hits("[['http_user_agent', '~~', 'Mobile']]", req().header("User-Agent", "x Mobile")))
        .isTrue();
    assertThat(hits("[['http_user_agent', '~~', 'Mobile']]", req().header("User-Agent", "mobile")))
        .isFalse();
    assertThat(hits("[['http_user_agent', '~*', 'Mobile']]", req().header("User-Agent", "mobile")))
        .isTrue();
    assertThat(hits("[['http_user_agent', '~~', '^a+$']]", req().header("User-Agent", "aaa")))
        .isTrue();
    assertThat(hits("[['http_user_agent', '~~', '.*']]", req())).isFalse();
  }

  @Test
  void inAndHas() {
    String in = "[['arg_env', 'in', ['dev', 'test', 1]]]";
    assertThat(hits(in, req().arg("env", "test"))).isTrue();
    assertThat(hits(in, req().arg("env", "prod"))).isFalse();
    assertThat(hits(in, req().arg("env", "1"))).as("Lua: '1' is not 1").isFalse();
    assertThat(hits(in, req())).isFalse();
    String has = "[['arg_tag', 'HAS', 'b']]";
    assertThat(hits(has, req().arg("tag", "a").arg("tag", "b"))).isTrue();
    assertThat(hits(has, req().arg("tag", "a"))).isFalse();
  }

  @Test
  void negationIsTheSecondElement() {
    String vars = "[['arg_name', '!', '~~', '^[a-z]+$']]";
    assertThat(hits(vars, req().arg("name", "abc"))).isFalse();
    assertThat(hits(vars, req().arg("name", "ABC"))).isTrue();
    assertThat(hits(vars, req())).as("no value: the regex fails, so its negation holds").isTrue();
    assertThat(hits("[['arg_env', '!', 'in', ['prod']]]", req().arg("env", "dev"))).isTrue();
  }

  @Test
  void builtInVariables() {
    assertThat(hits("[['uri', '==', '/']]", req())).isTrue();
    assertThat(hits("[['host', '==', 'api.example.com']]", req().host("API.example.com:8080")))
        .isTrue();
    assertThat(hits("[['request_method', 'in', ['GET', 'HEAD']]]", req().method("HEAD"))).isTrue();
    assertThat(hits("[['request_method', 'in', ['GET', 'HEAD']]]", req().method("POST"))).isFalse();
    assertThat(hits("[['remote_addr', '~~', '^10\\\\.']]", req().from("10.2.3.4"))).isTrue();
    assertThat(hits("[['remote_addr', '~~', '^10\\\\.']]", req().from("11.2.3.4"))).isFalse();
  }

  @Test
  void emptyVarsAlwaysHold() {
    assertThat(hits("[]", req())).isTrue();
  }

  @Test
  void varsPickAmongRoutesOnTheSameUri() {
    List<Resource> routes =
        List.of(
            route("v2", "{'uri': '/api', 'vars': [['http_version', '==', '2']]}"),
            route("any", "{'uri': '/api', 'priority': -1}"));
    RouteTable table = RouteTable.compile(routes, Map.of(), Map.of());
    assertThat(
            table
                .match(TestRouteRequest.get("/api").header("version", "2"))
                .orElseThrow()
                .routeId())
        .isEqualTo("v2");
    assertThat(table.match(TestRouteRequest.get("/api")).orElseThrow().routeId()).isEqualTo("any");
  }

  private static Resource route(String id, String json) {
    ObjectNode value = (ObjectNode) JSON.readTree(json.replace('\'', '"'));
    value.putObject("upstream").putObject("nodes").put("a:80", 1);
    return Resource.parse(ResourceType.ROUTES, id, value);
  }

  @Test
  void badExpressionsNameRouteAndField() {
    assertRefused("{}", "vars: must be an array");
    assertRefused("[['arg_a', '==']]", "vars[0]: must be [var, operator, value]");
    assertRefused("[['arg_a', 'x']]", "vars[0]: must be [var, operator, value]");
    assertRefused("[['arg_a', '==', 'x', 'y']]", "vars[0][1]: must be \"!\"");
    assertRefused("[['arg_a', '==', 'x'], 'arg_b']", "vars[1]: must be an array");
    assertRefused("[['arg_a', '===', 'x']]", "vars[0][1]: unknown operator \"===\"");
    assertRefused("[['arg_a', '!', 'like', 'x']]", "vars[0][2]: unknown operator");
    assertRefused("[['server_port', '==', '80']]", "vars[0][0]: unknown variable 'server_port'");
    assertRefused("[['arg_', '==', '80']]", "vars[0][0]: unknown variable 'arg_'");
    assertRefused("[[1, '==', '80']]", "vars[0][0]: must be a variable name");
    assertRefused("[['arg_a', '~~', '(']]", "vars[0][2]: '(' is not a valid regex");
    assertRefused("[['arg_a', '~*', 5]]", "vars[0][2]: must be a regex string");
    assertRefused("[['arg_a', '>', 'ten']]", "vars[0][2]: must be a number for >");
    assertRefused("[['arg_a', 'in', 'x']]", "vars[0][2]: must be an array for in");
    assertRefused("[['arg_a', 'has', ['x']]]", "vars[0][2]: must be a string for has");
    assertRefused("[['arg_a', '==', {}]]", "vars[0][2]: must be a string, number");
    assertRefused(
        "['OR', ['arg_a', '==', 'x'], ['arg_b', '==', 'y']]", "vars[0]: must be an array");
    assertRefused("[['OR', ['arg_a', '==', 'x']]]", "vars[0][0]: logical operator 'OR'");
  }

  private static void assertRefused(String vars, String message) {
    assertThatThrownBy(() -> withVars(vars))
        .as(vars)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("route 'r1': " + message);
  }
}
