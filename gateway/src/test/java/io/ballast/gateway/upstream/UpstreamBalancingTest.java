package io.ballast.gateway.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.http.RouteRequest;
import io.ballast.resource.KeepalivePool;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import io.ballast.resource.UpstreamNode;
import io.ballast.resource.UpstreamSpec;
import io.ballast.resource.UpstreamSpec.HashOn;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.node.ObjectNode;

class UpstreamBalancingTest {

  private static Upstream upstream(String json) {
    ObjectNode value =
        (ObjectNode) io.ballast.resource.Json.mapper().readTree(json.replace('\'', '"'));
    Resource resource = Resource.parse(ResourceType.UPSTREAMS, "u1", value);
    return Upstream.compile(resource.spec(UpstreamSpec.class), resource.owner());
  }

  private static BalanceContext request(String remote, Map<String, String> headers, String uri) {
    int q = uri.indexOf('?');
    String path = q < 0 ? uri : uri.substring(0, q);
    Map<String, List<String>> query = new HashMap<>();
    if (q >= 0) {
      for (String pair : uri.substring(q + 1).split("&")) {
        String[] kv = pair.split("=", 2);
        query.put(kv[0], List.of(kv[1]));
      }
    }
    RouteRequest routeRequest =
        new RouteRequest() {
          @Override
          public String method() {
            return "GET";
          }

          @Override
          public String host() {
            return headers.get("host");
          }

          @Override
          public String path() {
            return path;
          }

          @Override
          public InetAddress remoteAddress() {
            try {
              return remote == null ? null : InetAddress.getByName(remote);
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }

          @Override
          public List<String> headers(String name) {
            String value = headers.get(name.toLowerCase());
            return value == null ? List.of() : List.of(value);
          }

          @Override
          public List<String> queryParams(String name) {
            return query.getOrDefault(name, List.of());
          }

          @Override
          public List<String> cookies(String name) {
            String cookie = headers.get("cookie");
            if (cookie != null && cookie.startsWith(name + "=")) {
              return List.of(cookie.substring(name.length() + 1));
            }
            return List.of();
          }
        };
    return new BalanceContext(routeRequest, uri, null);
  }

  private static UpstreamNode pick(Upstream upstream, BalanceContext ctx) {
    UpstreamNode node = upstream.pick(ctx, Set.of(), n -> true);
    upstream.release(node);
    return node;
  }

  private static List<UpstreamNode> nodes(int count) {
    List<UpstreamNode> nodes = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      nodes.add(new UpstreamNode("10.0.0." + (i + 1), 80, 1 + i % 3));
    }
    return nodes;
  }

  @Test
  void removingOneNodeMovesOnlyThatNodesKeys() {
    List<UpstreamNode> all = nodes(5);
    HashKey key = new HashKey(HashOn.VARS, "uri");
    ConsistentHash before = new ConsistentHash(all, key);
    UpstreamNode removed = all.get(2);
    ConsistentHash after =
        new ConsistentHash(all.stream().filter(n -> !n.equals(removed)).toList(), key);

    int moved = 0;
    for (int i = 0; i < 10_000; i++) {
      String value = "/item/" + i;
      UpstreamNode was = before.pick(value, n -> true);
      UpstreamNode is = after.pick(value, n -> true);
      if (!was.equals(removed)) {
        assertThat(is).as("key %s", value).isEqualTo(was);
      } else {
        moved++;
        assertThat(is).isNotEqualTo(removed);
      }
    }
    // The removed node (weight 3 of 9) held a real share of the keys.
    assertThat(moved).isBetween(2_000, 4_700);
  }

  @Test
  void ringSharesFollowWeights() {
    List<UpstreamNode> nodes = List.of(new UpstreamNode("a", 80, 1), new UpstreamNode("b", 80, 3));
    ConsistentHash ring = new ConsistentHash(nodes, new HashKey(HashOn.VARS, "uri"));
    int a = 0;
    for (int i = 0; i < 20_000; i++) {
      if (ring.pick("k" + i, n -> true).host().equals("a")) {
        a++;
      }
    }
    assertThat(a).isBetween(4_000, 6_000);
  }

  @Test
  void chashKeysComeFromVarsHeadersCookiesAndFallBackToTheClientAddress() {
    String nodes = "{'10.0.0.1:80': 1, '10.0.0.2:80': 1, '10.0.0.3:80': 1, '10.0.0.4:80': 1}";
    Upstream byArg = upstream("{'type': 'chash', 'key': 'arg_user', 'nodes': " + nodes + "}");
    Upstream byHeader =
        upstream("{'type': 'chash', 'hash_on': 'header', 'key': 'x-user', 'nodes': " + nodes + "}");
    Upstream byCookie =
        upstream("{'type': 'chash', 'hash_on': 'cookie', 'key': 'sid', 'nodes': " + nodes + "}");
    Upstream byRemote = upstream("{'type': 'chash', 'key': 'remote_addr', 'nodes': " + nodes + "}");

    Set<UpstreamNode> seen = new HashSet<>();
    for (int i = 0; i < 50; i++) {
      String user = "user" + i;
      UpstreamNode node = pick(byArg, request("192.0.2." + i, Map.of(), "/a?user=" + user));
      // Same key from another client and path: same node.
      assertThat(pick(byArg, request("198.51.100.9", Map.of(), "/b?user=" + user))).isEqualTo(node);
      seen.add(node);
      UpstreamNode byHeaderNode =
          pick(byHeader, request("192.0.2." + i, Map.of("x-user", user), "/"));
      assertThat(pick(byHeader, request("198.51.100.9", Map.of("x-user", user), "/x")))
          .isEqualTo(byHeaderNode);
      UpstreamNode byCookieNode =
          pick(byCookie, request("192.0.2." + i, Map.of("cookie", "sid=" + user), "/"));
      assertThat(pick(byCookie, request("198.51.100.9", Map.of("cookie", "sid=" + user), "/x")))
          .isEqualTo(byCookieNode);

      // Without the key, the client address decides, as remote_addr hashing would.
      String client = "203.0.113." + i;
      UpstreamNode byAddress = pick(byRemote, request(client, Map.of(), "/"));
      assertThat(pick(byArg, request(client, Map.of(), "/no-user"))).isEqualTo(byAddress);
      assertThat(pick(byHeader, request(client, Map.of(), "/"))).isEqualTo(byAddress);
      assertThat(pick(byCookie, request(client, Map.of(), "/"))).isEqualTo(byAddress);
    }
    assertThat(seen).hasSizeGreaterThan(1);
  }

  @Test
  void chashOnConsumerUsesTheConsumerName() {
    Upstream upstream =
        upstream(
            "{'type': 'chash', 'hash_on': 'consumer', 'nodes': {'a:80': 1, 'b:80': 1, 'c:80': 1}}");
    BalanceContext alice = request("192.0.2.1", Map.of(), "/");
    for (int i = 0; i < 20; i++) {
      BalanceContext sameConsumer =
          new BalanceContext(request("192.0.2." + i, Map.of(), "/").request(), "/", "alice");
      assertThat(pick(upstream, sameConsumer))
          .isEqualTo(pick(upstream, new BalanceContext(alice.request(), "/", "alice")));
    }
  }

  @Test
  void chashSkipsTriedNodesAndKeepsOtherKeysInPlace() {
    Upstream upstream =
        upstream("{'type': 'chash', 'key': 'uri', 'nodes': {'a:80': 1, 'b:80': 1, 'c:80': 1}}");
    BalanceContext ctx = request("192.0.2.1", Map.of(), "/k");
    UpstreamNode first = pick(upstream, ctx);
    UpstreamNode second = upstream.pick(ctx, Set.of(first), n -> true);
    assertThat(second).isNotEqualTo(first);
  }

  @Test
  void leastConnPicksTheNodeWithFewestInFlightPerWeight() {
    Upstream upstream = upstream("{'type': 'least_conn', 'nodes': {'a:80': 1, 'b:80': 2}}");
    LeastConnections balancer = (LeastConnections) upstream.balancers().get(0);
    BalanceContext ctx = BalanceContext.none();

    // (0+1)/2 < (0+1)/1: b first; then a (1/1 vs 2/2 tie goes to a, listed first); then b.
    UpstreamNode first = upstream.pick(ctx, Set.of(), n -> true);
    UpstreamNode second = upstream.pick(ctx, Set.of(), n -> true);
    UpstreamNode third = upstream.pick(ctx, Set.of(), n -> true);
    assertThat(List.of(first.host(), second.host(), third.host())).containsExactly("b", "a", "b");
    assertThat(balancer.active(first)).isEqualTo(2);

    upstream.release(second);
    assertThat(balancer.active(second)).isZero();
    assertThat(upstream.pick(ctx, Set.of(), n -> true).host()).isEqualTo("a");
  }

  @Test
  void lowerPriorityServesOnlyAfterEveryHigherNodeWasTried() {
    Upstream upstream =
        upstream(
            "{'nodes': [{'host': 'a', 'port': 80, 'weight': 1, 'priority': 10},"
                + " {'host': 'b', 'port': 80, 'weight': 1, 'priority': 10},"
                + " {'host': 'backup', 'port': 80, 'weight': 100}]}");
    BalanceContext ctx = BalanceContext.none();
    for (int i = 0; i < 20; i++) {
      assertThat(upstream.pick(ctx, Set.of(), n -> true).host()).isIn("a", "b");
    }
    Set<UpstreamNode> tried = new HashSet<>();
    tried.add(upstream.pick(ctx, tried, n -> true));
    UpstreamNode second = upstream.pick(ctx, tried, n -> true);
    assertThat(second.host()).isIn("a", "b");
    tried.add(second);
    assertThat(upstream.pick(ctx, tried, n -> true).host()).isEqualTo("backup");
  }

  @Test
  void unusableNodesAreSkippedUntilNoneIsUsable() {
    Upstream upstream = upstream("{'nodes': {'a:80': 1, 'b:80': 1}}");
    BalanceContext ctx = BalanceContext.none();
    for (int i = 0; i < 5; i++) {
      assertThat(upstream.pick(ctx, Set.of(), n -> !n.host().equals("a")).host()).isEqualTo("b");
    }
    // APISIX: with no healthy node, all nodes are used.
    assertThat(upstream.pick(ctx, Set.of(), n -> false)).isNotNull();
  }

  @Test
  void defaultsFollowApisix() {
    Upstream upstream = upstream("{'nodes': {'a:80': 1, 'b:80': 1, 'c:80': 0}}");
    assertThat(upstream.retries()).isEqualTo(2);
    assertThat(upstream.retryTimeout()).isEqualTo(Duration.ZERO);
    assertThat(upstream.keepalivePool()).isNull();
    assertThat(upstream.balancers()).singleElement().isInstanceOf(SmoothWeightedRoundRobin.class);

    Upstream tuned =
        upstream(
            "{'type': 'roundrobin', 'retries': 0, 'retry_timeout': 1.5, 'keepalive_pool':"
                + " {'requests': 2}, 'nodes': {'a:80': 1}}");
    assertThat(tuned.retries()).isZero();
    assertThat(tuned.retryTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(upstream("{'type': 'ewma', 'nodes': {'a:80': 1}}").balancers())
        .singleElement()
        .isInstanceOf(LeastConnections.class);
    assertThat(tuned.keepalivePool()).isEqualTo(new KeepalivePool(320, Duration.ofSeconds(60), 2));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "'type': 'random'|upstream 'u1': type: must be one of chash, ewma, least_conn, roundrobin",
        "'type': 7|upstream 'u1': type: must be one of chash, ewma, least_conn, roundrobin",
        "'type': 'chash', 'hash_on': 'body', 'key': 'x'|upstream 'u1': hash_on: 'body' is not one of"
            + " vars, header, cookie, consumer",
        "'type': 'chash', 'hash_on': 'vars_combinations', 'key': '$a'|upstream 'u1': hash_on:"
            + " 'vars_combinations' is not supported",
        "'type': 'chash'|upstream 'u1': key: is required when type is chash",
        "'type': 'chash', 'hash_on': 'header'|upstream 'u1': key: is required when type is chash",
        "'type': 'chash', 'key': ' '|upstream 'u1': key: must not be blank",
        "'type': 'chash', 'key': 'server_addr'|upstream 'u1': key: 'server_addr' is not a supported"
            + " variable",
        "'type': 'chash', 'key': 'arg_'|upstream 'u1': key: 'arg_' is not a supported variable",
        "'retries': -1|upstream 'u1': retries: must be an integer >= 0",
        "'retries': 1.5|upstream 'u1': retries: must be an integer >= 0",
        "'retry_timeout': -1|upstream 'u1': retry_timeout: must be a number of seconds, 0 or more",
        "'keepalive_pool': 5|upstream 'u1': keepalive_pool: must be an object",
        "'keepalive_pool': {'size': 0}|upstream 'u1': keepalive_pool.size: must be between 1 and",
        "'keepalive_pool': {'idle_timeout': -2}|upstream 'u1': keepalive_pool.idle_timeout: must be"
            + " a number of seconds",
        "'keepalive_pool': {'requests': 0}|upstream 'u1': keepalive_pool.requests: must be between"
            + " 1 and",
      })
  void badValuesNameTheUpstreamAndField(String fields, String message) {
    assertThatThrownBy(() -> upstream("{" + fields + ", 'nodes': {'a:80': 1}}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message);
  }

  @Test
  void badPriorityNamesTheNode() {
    assertThatThrownBy(
            () ->
                upstream("{'nodes': [{'host': 'a', 'port': 80, 'weight': 1, 'priority': 'high'}]}"))
        .hasMessage("upstream 'u1': nodes[0].priority: must be an integer");
  }

  @Test
  void inlineUpstreamErrorsCarryThePrefix() {
    ObjectNode value =
        (ObjectNode)
            io.ballast.resource.Json.mapper()
                .readTree("{\"type\": \"chash\", \"nodes\": {\"a:80\": 1}}");
    var route = io.ballast.resource.Json.mapper().createObjectNode().put("uri", "/");
    route.set("upstream", value);
    assertThatThrownBy(() -> Resource.parse(ResourceType.ROUTES, "r1", route))
        .hasMessage("route 'r1': upstream.key: is required when type is chash");
  }
}
