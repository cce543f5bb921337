package io.ballast.bench;

import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import io.ballast.gateway.route.RouteMatch;
import io.ballast.gateway.http.RouteRequest;
import io.ballast.gateway.route.RouteTable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@link RouteTable#match} over an APISIX-like route set: 70% exact uris, 15% prefix ({@code
 * /svcN/*}), 15% {@code :param} patterns; a fifth of all routes also names hosts, a third names
 * methods. Requests are drawn once with a fixed seed: 80% built from a real route, 20% misses.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RouteMatchBench {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final long SEED = 20261125L;
  // A power of two, so the request index wraps with a mask.
  private static final int REQUEST_COUNT = 4096;
  private static final String[] METHOD_SETS = {"GET", "GET,POST", "PUT,PATCH,DELETE"};
  private static final String[] RESOURCES = {"items", "orders", "users", "health", "config"};

  @Param({"1000", "10000", "100000"})
  public int routes;

  private RouteTable table;
  private RouteRequest[] requests;
  private int next;

  /** What a request needs to hit one generated route. */
  private record Target(String path, String method, String host) {}

  @Setup
  public void setUp() {
    Random random = new Random(SEED);
    int upstreamCount = Math.max(1, routes / 10);
    Map<String, Resource> upstreams = new HashMap<>();
    for (int i = 0; i < upstreamCount; i++) {
      upstreams.put(String.valueOf(i), upstream(i));
    }
    List<Resource> routeResources = new ArrayList<>(routes);
    List<Target> targets = new ArrayList<>(routes);
    for (int i = 0; i < routes; i++) {
      ObjectNode value = JSON.createObjectNode();
      value.put("id", String.valueOf(i));
      value.put("upstream_id", String.valueOf(random.nextInt(upstreamCount)));
      String resource = RESOURCES[random.nextInt(RESOURCES.length)];
      String uri;
      String path;
      int kind = random.nextInt(100);
      if (kind < 70) {
        uri = "/api/v1/svc" + i + "/" + resource;
        path = uri;
      } else if (kind < 85) {
        uri = "/svc" + i + "/*";
        path = "/svc" + i + "/" + resource + "/" + random.nextInt(1000);
      } else {
        uri = "/api/v2/svc" + i + "/" + resource + "/:id/details";
        path = "/api/v2/svc" + i + "/" + resource + "/" + random.nextInt(100000) + "/details";
      }
      value.put("uri", uri);
      String method = "GET";
      if (random.nextInt(3) == 0) {
        String[] methods = METHOD_SETS[random.nextInt(METHOD_SETS.length)].split(",");
        ArrayNode array = value.putArray("methods");
        for (String m : methods) {
          array.add(m);
        }
        method = methods[random.nextInt(methods.length)];
      }
      String host = null;
      if (random.nextInt(5) == 0) {
        host = "svc" + i + ".example.com";
        value.putArray("hosts").add(host).add("*.svc" + i + ".internal");
      }
      routeResources.add(Resource.parse(ResourceType.ROUTES, String.valueOf(i), value));
      targets.add(new Target(path, method, host));
    }
    table = RouteTable.compile(routeResources, Map.of(), upstreams);

    requests = new RouteRequest[REQUEST_COUNT];
    int hits = 0;
    for (int n = 0; n < REQUEST_COUNT; n++) {
      if (random.nextInt(5) > 0) {
        Target target = targets.get(random.nextInt(routes));
        String host = target.host() == null ? "gateway.example.com" : target.host();
        requests[n] = RouteRequest.of(target.method(), host, target.path());
      } else {
        requests[n] = miss(random);
      }
      hits += table.match(requests[n]).isPresent() ? 1 : 0;
    }
    // A generator bug that turned hits into misses would measure the wrong thing.
    if (hits < REQUEST_COUNT * 3 / 4) {
      throw new IllegalStateException("only " + hits + " of " + REQUEST_COUNT + " requests hit");
    }
  }

  @Benchmark
  public Optional<RouteMatch> match() {
    RouteRequest request = requests[next++ & (REQUEST_COUNT - 1)];
    return table.match(request);
  }

  /** Paths that share prefixes with real routes but name none. */
  private RouteRequest miss(Random random) {
    int id = routes + random.nextInt(routes);
    String path =
        switch (random.nextInt(3)) {
          case 0 -> "/api/v1/svc" + id + "/items";
          case 1 -> "/api/v2/svc" + id + "/users/42";
          default -> "/static/assets/app." + random.nextInt(1000) + ".js";
        };
    return RouteRequest.of("GET", "gateway.example.com", path);
  }

  private static Resource upstream(int i) {
    ObjectNode value = JSON.createObjectNode();
    value.put("id", String.valueOf(i));
    value.put("type", "roundrobin");
    ObjectNode nodes = value.putObject("nodes");
    nodes.put("10.0." + (i / 250 % 250) + "." + (i % 250 + 1) + ":8080", 1);
    return Resource.parse(ResourceType.UPSTREAMS, String.valueOf(i), value);
  }
}
