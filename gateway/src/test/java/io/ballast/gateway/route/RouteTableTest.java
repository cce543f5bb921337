package io.ballast.gateway.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.upstream.Upstream;
import io.ballast.resource.PassHost;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import io.ballast.resource.UpstreamNode;
import io.ballast.resource.UpstreamTimeouts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

class RouteTableTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  // Written now, read by table(): a resource that does not parse fails there, as a snapshot would.
  private final Map<String, String> routes = new LinkedHashMap<>();
  private final Map<String, String> services = new LinkedHashMap<>();
  private final Map<String, String> upstreams = new LinkedHashMap<>();

  private static Resource resource(ResourceType type, String id, String json) {
    ObjectNode value = (ObjectNode) JSON.readTree(json.replace('\'', '"'));
    value.put("id", id);
    return Resource.parse(type, id, value);
  }

  private void route(String id, String json) {
    routes.put(id, json);
  }

  private void service(String id, String json) {
    services.put(id, json);
  }

  private void upstream(String id, String json) {
    upstreams.put(id, json);
  }

  private RouteTable table() {
    return RouteTable.compile(
        parse(ResourceType.ROUTES, routes).values(),
        parse(ResourceType.SERVICES, services),
        parse(ResourceType.UPSTREAMS, upstreams));
  }

  private static Map<String, Resource> parse(ResourceType type, Map<String, String> written) {
    Map<String, Resource> parsed = new LinkedHashMap<>();
    written.forEach((id, json) -> parsed.put(id, resource(type, id, json)));
    return parsed;
  }

  private static String matched(RouteTable table, String method, String host, String path) {
    return table.match(method, host, path).map(RouteMatch::routeId).orElse(null);
  }

  private static final String NODE = "'upstream': {'nodes': {'127.0.0.1:1980': 1}}";

  @Test
  void exactUriBeatsPrefixAndPrefixNeedsStar() {
    route("exact", "{'uri': '/api/x', " + NODE + "}");
    route("prefix", "{'uri': '/api/*', " + NODE + "}");
    route("glued", "{'uri': '/assets*', " + NODE + "}");
    RouteTable table = table();

    assertThat(matched(table, "GET", null, "/api/x")).isEqualTo("exact");
    assertThat(matched(table, "GET", null, "/api/")).isEqualTo("prefix");
    assertThat(matched(table, "GET", null, "/api/x/y")).isEqualTo("prefix");
    assertThat(matched(table, "GET", null, "/api")).isNull();
    assertThat(matched(table, "GET", null, "/api/x2")).isEqualTo("prefix");
    assertThat(matched(table, "GET", null, "/assets")).isEqualTo("glued");
    assertThat(matched(table, "GET", null, "/assets2/a")).isEqualTo("glued");
    assertThat(matched(table, "GET", null, "/other")).isNull();
  }

  @Test
  void longerPrefixWinsAndUrisListsAreAllIndexed() {
    route("short", "{'uri': '/*', " + NODE + "}");
    route("long", "{'uris': ['/a/b/*', '/exact'], " + NODE + "}");
    RouteTable table = table();

    assertThat(matched(table, "GET", null, "/a/b/c")).isEqualTo("long");
    assertThat(matched(table, "GET", null, "/exact")).isEqualTo("long");
    assertThat(matched(table, "GET", null, "/a/c")).isEqualTo("short");
  }

  @Test
  void paramSegmentMatchesOneWholeNonEmptySegment() {
    route("orders", "{'uri': '/user/:id/orders', " + NODE + "}");
    route("tail", "{'uri': '/files/:name', " + NODE + "}");
    route("colon-inside", "{'uri': '/a:b', " + NODE + "}");
    RouteTable table = table();

    assertThat(matched(table, "GET", null, "/user/42/orders")).isEqualTo("orders");
    assertThat(matched(table, "GET", null, "/user/a.b-c/orders")).isEqualTo("orders");
    assertThat(matched(table, "GET", null, "/user//orders")).isNull();
    assertThat(matched(table, "GET", null, "/user/42/orders/x")).isNull();
    assertThat(matched(table, "GET", null, "/user/4/2/orders")).isNull();
    assertThat(matched(table, "GET", null, "/files/x")).isEqualTo("tail");
    assertThat(matched(table, "GET", null, "/files/")).isNull();
    assertThat(matched(table, "GET", null, "/files/x/")).isNull();
    assertThat(matched(table, "GET", null, "/a:b")).isEqualTo("colon-inside");
    assertThat(matched(table, "GET", null, "/ax")).isNull();
  }

  @Test
  void exactBeatsParamBeatsPrefixAndParamsMayEndInAPrefix() {
    route("prefix", "{'uri': '/user/*', " + NODE + "}");
    route("param", "{'uri': '/user/:id', " + NODE + "}");
    route("exact", "{'uri': '/user/me', " + NODE + "}");
    route("param-prefix", "{'uri': '/user/:id/*', " + NODE + "}");
    route("param-high", "{'uri': '/user/:id/x', 'priority': 1, " + NODE + "}");
    RouteTable table = table();

    assertThat(matched(table, "GET", null, "/user/me")).isEqualTo("exact");
    assertThat(matched(table, "GET", null, "/user/you")).isEqualTo("param");
    assertThat(matched(table, "GET", null, "/user/you/a/b")).isEqualTo("param-prefix");
    assertThat(matched(table, "GET", null, "/user/")).isEqualTo("prefix");
    assertThat(matched(table, "GET", null, "/user/me/x")).isEqualTo("param-high");
  }

  @Test
  void aParamAndALiteralAtTheSameSegmentAreBothTried() {
    route("literal-then-miss", "{'uri': '/a/b/c', " + NODE + "}");
    route("param-then-hit", "{'uri': '/a/:x/d', " + NODE + "}");
    route("param-methods", "{'uri': '/a/:x/c', 'methods': ['POST'], " + NODE + "}");
    RouteTable table = table();

    assertThat(matched(table, "GET", null, "/a/b/d")).isEqualTo("param-then-hit");
    assertThat(matched(table, "GET", null, "/a/b/c")).isEqualTo("literal-then-miss");
    assertThat(matched(table, "POST", null, "/a/z/c")).isEqualTo("param-methods");
    assertThat(matched(table, "GET", null, "/a/z/c")).isNull();
  }

  @Test
  void longestAllowedUrisBuildAndMatchOnASmallStack() throws Exception {
    // The Admin API allows 4096 characters; building the trie must not need a deep stack.
    String segment = "/" + "s".repeat(63);
    String longUri = segment.repeat(63);
    route("long-prefix", "{'uri': '" + longUri + "/*', " + NODE + "}");
    route("long-param", "{'uri': '" + longUri + "/:id', 'priority': 1, " + NODE + "}");
    List<String> results = new ArrayList<>();
    Thread thread =
        new Thread(
            null,
            () -> {
              RouteTable table = table();
              results.add(matched(table, "GET", null, longUri + "/x"));
              results.add(matched(table, "GET", null, longUri + "/x/y"));
            },
            "small-stack",
            256 * 1024);
    thread.start();
    thread.join();
    assertThat(results).containsExactly("long-param", "long-prefix");
  }

  @Test
  void methodsRestrictTheRoute() {
    route("read", "{'uri': '/r', 'methods': ['GET', 'HEAD'], " + NODE + "}");
    route("write", "{'uri': '/r', 'methods': ['POST'], " + NODE + "}");
    RouteTable table = table();

    assertThat(matched(table, "GET", null, "/r")).isEqualTo("read");
    assertThat(matched(table, "POST", null, "/r")).isEqualTo("write");
    assertThat(matched(table, "DELETE", null, "/r")).isNull();
  }

  @Test
  void aRouteWithoutMethodsTakesEveryMethodAndAnEmptyListNone() {
    route("any", "{'uri': '/any', " + NODE + "}");
    route("purge", "{'uri': '/purge', 'methods': ['PURGE'], " + NODE + "}");
    route("none", "{'uri': '/none', 'methods': [], " + NODE + "}");
    RouteTable table = table();

    assertThat(matched(table, "PROPFIND", null, "/any")).isEqualTo("any");
    assertThat(matched(table, "PURGE", null, "/any")).isEqualTo("any");
    assertThat(matched(table, "PURGE", null, "/purge")).isEqualTo("purge");
    assertThat(matched(table, "PROPFIND", null, "/purge")).isNull();
    assertThat(matched(table, "GET", null, "/none")).isNull();
  }

  @Test
  void hostsAreExactCaseInsensitiveWithWildcardsAndIgnoreThePort() {
    route("exact", "{'uri': '/h', 'host': 'api.example.com', " + NODE + "}");
    route("wild", "{'uri': '/h', 'hosts': ['*.example.com'], " + NODE + "}");
    route("any", "{'uri': '/h', " + NODE + "}");
    RouteTable table = table();

    assertThat(matched(table, "GET", "API.Example.com:8080", "/h")).isEqualTo("exact");
    assertThat(matched(table, "GET", "a.example.com", "/h")).isEqualTo("wild");
    assertThat(matched(table, "GET", "a.b.example.com", "/h")).isEqualTo("wild");
    assertThat(matched(table, "GET", "example.com", "/h")).isEqualTo("any");
    assertThat(matched(table, "GET", null, "/h")).isEqualTo("any");
  }

  @Test
  void routeWithoutHostsTakesTheServiceHosts() {
    service("s1", "{'hosts': ['svc.example.com'], " + NODE + "}");
    route("via-service", "{'uri': '/s', 'service_id': 's1'}");
    route("own-hosts", "{'uri': '/o', 'service_id': 's1', 'host': 'own.example.com'}");
    RouteTable table = table();

    assertThat(matched(table, "GET", "svc.example.com", "/s")).isEqualTo("via-service");
    assertThat(matched(table, "GET", "other.example.com", "/s")).isNull();
    assertThat(matched(table, "GET", "own.example.com", "/o")).isEqualTo("own-hosts");
    assertThat(matched(table, "GET", "svc.example.com", "/o")).isNull();
  }

  @Test
  void priorityBeatsExactnessAndRouteIdBreaksTies() {
    route("exact", "{'uri': '/p', " + NODE + "}");
    route("prefix-high", "{'uri': '/p*', 'priority': 10, " + NODE + "}");
    route("b", "{'uri': '/tie', " + NODE + "}");
    route("a", "{'uri': '/tie', " + NODE + "}");
    route("low", "{'uri': '/neg', 'priority': -1, " + NODE + "}");
    route("prefix-zero", "{'uri': '/ne*', " + NODE + "}");
    RouteTable table = table();

    assertThat(matched(table, "GET", null, "/p")).isEqualTo("prefix-high");
    assertThat(matched(table, "GET", null, "/tie")).isEqualTo("a");
    assertThat(matched(table, "GET", null, "/neg")).isEqualTo("prefix-zero");
  }

  @Test
  void routeWithHostBeatsRouteWithoutAtEqualRank() {
    route("a-no-host", "{'uri': '/x*', " + NODE + "}");
    route("z-host", "{'uri': '/x*', 'host': 'h.example.com', " + NODE + "}");
    RouteTable table = table();

    assertThat(matched(table, "GET", "h.example.com", "/x1")).isEqualTo("z-host");
    assertThat(matched(table, "GET", "other", "/x1")).isEqualTo("a-no-host");
  }

  @Test
  void statusZeroDisablesTheRoute() {
    route("off", "{'uri': '/off', 'status': 0, " + NODE + "}");
    route("on", "{'uri': '/on', 'status': 1, " + NODE + "}");
    RouteTable table = table();

    assertThat(matched(table, "GET", null, "/off")).isNull();
    assertThat(matched(table, "GET", null, "/on")).isEqualTo("on");
  }

  @Test
  void upstreamResolutionOrder() {
    upstream("u-route", "{'nodes': {'10.0.0.2:80': 1}}");
    upstream("u-service", "{'nodes': {'10.0.0.4:80': 1}}");
    service("s-inline", "{'upstream': {'nodes': {'10.0.0.3:80': 1}}, 'upstream_id': 'u-service'}");
    service("s-id", "{'upstream_id': 'u-service'}");
    service("s-none", "{}");
    route(
        "inline",
        "{'uri': '/1', 'upstream': {'nodes': {'10.0.0.1:80': 1}}, 'upstream_id': 'u-route',"
            + " 'service_id': 's-inline'}");
    route("by-id", "{'uri': '/2', 'upstream_id': 'u-route', 'service_id': 's-inline'}");
    route("service-inline", "{'uri': '/3', 'service_id': 's-inline'}");
    route("service-id", "{'uri': '/4', 'service_id': 's-id'}");
    route("missing-id", "{'uri': '/5', 'upstream_id': 'nope', 'service_id': 's-id'}");
    route("missing-service", "{'uri': '/6', 'service_id': 'nope'}");
    route("service-without", "{'uri': '/7', 'service_id': 's-none'}");
    RouteTable table = table();

    assertThat(firstNodeHost(table, "/1")).contains("10.0.0.1");
    assertThat(firstNodeHost(table, "/2")).contains("10.0.0.2");
    assertThat(firstNodeHost(table, "/3")).contains("10.0.0.3");
    assertThat(firstNodeHost(table, "/4")).contains("10.0.0.4");
    for (String path : List.of("/5", "/6", "/7")) {
      assertThat(table.match("GET", null, path)).as(path).isPresent();
      assertThat(firstNodeHost(table, path)).as(path).isEmpty();
    }
  }

  private static Optional<String> firstNodeHost(RouteTable table, String path) {
    return table
        .match("GET", null, path)
        .orElseThrow()
        .upstream()
        .map(u -> u.nodes().get(0).host());
  }

  @Test
  void routesSharingAnUpstreamShareItsBalancer() {
    upstream(
        "u1",
        "{'nodes': [{'host': 'a', 'port': 80, 'weight': 1},"
            + " {'host': 'b', 'port': 80, 'weight': 1}]}");
    route("r1", "{'uri': '/1', 'upstream_id': 'u1'}");
    route("r2", "{'uri': '/2', 'upstream_id': 'u1'}");
    RouteTable table = table();

    Upstream one = table.match("GET", null, "/1").orElseThrow().upstream().orElseThrow();
    Upstream two = table.match("GET", null, "/2").orElseThrow().upstream().orElseThrow();
    assertThat(one).isSameAs(two);
    assertThat(one.pick().orElseThrow().host()).isEqualTo("a");
    assertThat(two.pick().orElseThrow().host()).isEqualTo("b");
  }

  @Test
  void smoothWeightedRoundRobinFollowsNginxSequence() {
    upstream("u1", "{'nodes': {'a:80': 5, 'b:80': 1, 'c:80': 1}}");
    route("r1", "{'uri': '/', 'upstream_id': 'u1'}");
    Upstream upstream = table().match("GET", null, "/").orElseThrow().upstream().orElseThrow();

    List<String> picks = new ArrayList<>();
    for (int i = 0; i < 14; i++) {
      picks.add(upstream.pick().orElseThrow().host());
    }
    List<String> cycle = Arrays.asList("a", "a", "b", "a", "c", "a", "a");
    List<String> twice = new ArrayList<>(cycle);
    twice.addAll(cycle);
    assertThat(picks).isEqualTo(twice);
  }

  @Test
  void weightZeroNodesAreNeverPicked() {
    upstream("u1", "{'nodes': {'a:80': 0, 'b:80': 2}}");
    upstream("dead", "{'nodes': {'a:80': 0}}");
    route("r1", "{'uri': '/', 'upstream_id': 'u1'}");
    route("r2", "{'uri': '/dead', 'upstream_id': 'dead'}");
    RouteTable table = table();
    Upstream upstream = table.match("GET", null, "/").orElseThrow().upstream().orElseThrow();

    for (int i = 0; i < 20; i++) {
      assertThat(upstream.pick().orElseThrow().host()).isEqualTo("b");
    }
    assertThat(table.match("GET", null, "/dead").orElseThrow().upstream().orElseThrow().pick())
        .isEmpty();
  }

  @Test
  void upstreamFieldsAreCompiled() {
    route(
        "r1",
        "{'uri': '/', 'upstream': {'scheme': 'https', 'nodes': {'[::1]:8443': 1, 'example.com': 2},"
            + " 'timeout': {'connect': 1.5, 'send': 60, 'read': 2}, 'pass_host': 'rewrite',"
            + " 'upstream_host': 'backend.internal'}}");
    Upstream upstream = table().match("GET", null, "/").orElseThrow().upstream().orElseThrow();

    assertThat(upstream.scheme()).isEqualTo("https");
    assertThat(upstream.nodes())
        .containsExactly(new UpstreamNode("::1", 8443, 1), new UpstreamNode("example.com", 443, 2));
    assertThat(upstream.nodes().get(0).authority()).isEqualTo("[::1]:8443");
    assertThat(upstream.timeouts())
        .isEqualTo(
            new UpstreamTimeouts(
                Duration.ofMillis(1500), Duration.ofSeconds(60), Duration.ofSeconds(2)));
    assertThat(upstream.passHost()).isEqualTo(PassHost.REWRITE);
    assertThat(upstream.upstreamHost()).isEqualTo("backend.internal");
  }

  @Test
  void badNodeInRouteNamesRouteAndField() {
    route("r1", "{'uri': '/', 'upstream': {'nodes': [{'host': 'a', 'port': 70000, 'weight': 1}]}}");
    assertThatThrownBy(this::table)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("route 'r1'")
        .hasMessageContaining("upstream.nodes[0].port");
  }

  @Test
  void badNodeInUpstreamNamesUpstreamAndField() {
    upstream("u1", "{'nodes': {'127.0.0.1:http': 1}}");
    assertThatThrownBy(this::table)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("upstream 'u1'")
        .hasMessageContaining("nodes.'127.0.0.1:http'");
  }

  @Test
  void otherInvalidFieldsAreNamed() {
    assertInvalid("{'uri': 'no-slash', " + NODE + "}", "uri");
    assertInvalid("{'methods': ['GET'], " + NODE + "}", "uri");
    assertInvalid("{'uri': '/', 'methods': ['PROPFIND'], " + NODE + "}", "methods[0]");
    assertInvalid("{'uri': '/', 'priority': 'high', " + NODE + "}", "priority");
    assertInvalid("{'uri': '/', 'upstream': {'nodes': {'a:80': -1}}}", "upstream.nodes.'a:80'");
    assertInvalid(
        "{'uri': '/', 'upstream': {'scheme': 'grpc', 'nodes': {'a:80': 1}}}", "upstream.scheme");
    assertInvalid(
        "{'uri': '/', 'upstream': {'nodes': {'a:80': 1},"
            + " 'timeout': {'connect': 1, 'send': 1, 'read': 0}}}",
        "upstream.timeout.read");
    assertInvalid(
        "{'uri': '/', 'upstream': {'nodes': {'a:80': 1}, 'pass_host': 'rewrite'}}",
        "upstream.upstream_host");
  }

  private void assertInvalid(String routeJson, String field) {
    routes.clear();
    route("bad", routeJson);
    assertThatThrownBy(this::table)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("route 'bad': " + field + ":");
  }
}
