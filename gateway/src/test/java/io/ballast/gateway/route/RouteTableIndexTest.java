package io.ballast.gateway.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The indexed table against a brute-force scan that restates APISIX's winner rules on its own:
 * every uri becomes a regex, every route is tried, the best by (priority, exact/param/prefix,
 * pattern length, host condition, id) wins.
 */
class RouteTableIndexTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String[] SEGMENTS = {"a", "b", "ab", "users", "1"};
  private static final String[] REQUEST_SEGMENTS = {"a", "b", "ab", "users", "1", "zz", ""};
  private static final String[] METHODS = {"GET", "POST", "PUT"};
  private static final String[] REQUEST_HOSTS = {null, "h1.com", "a.w.com", "other.com"};

  /** One route as the oracle sees it. */
  private record Spec(
      String id, List<String> uris, int priority, List<String> methods, List<String> hosts) {}

  /** One uri of one route, compiled independently of the table. */
  private record Candidate(Spec spec, Pattern regex, int kind, int length) {}

  @Test
  void indexPicksTheSameWinnerAsABruteForceScan() {
    Random random = new Random(20261125L);
    List<Spec> specs = new ArrayList<>();
    List<Resource> resources = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      Spec spec = randomSpec(random, i);
      specs.add(spec);
      resources.add(resource(spec));
    }
    RouteTable table = RouteTable.compile(resources, Map.of(), Map.of());
    List<Candidate> candidates = new ArrayList<>();
    for (Spec spec : specs) {
      for (String uri : spec.uris()) {
        candidates.add(candidate(spec, uri));
      }
    }

    int matched = 0;
    int paramWins = 0;
    for (int n = 0; n < 4000; n++) {
      String path = randomPath(random, REQUEST_SEGMENTS);
      String method = METHODS[random.nextInt(METHODS.length)];
      String host = REQUEST_HOSTS[random.nextInt(REQUEST_HOSTS.length)];
      Candidate expected = scan(candidates, method, host, path);
      String actual = table.match(method, host, path).map(RouteMatch::routeId).orElse(null);
      assertThat(actual)
          .as("%s %s host=%s", method, path, host)
          .isEqualTo(expected == null ? null : expected.spec().id());
      if (expected != null) {
        matched++;
        paramWins += expected.kind() == 1 ? 1 : 0;
      }
    }
    // The random sets must exercise the rules, not just agree on 404s.
    assertThat(matched).isGreaterThan(1000);
    assertThat(paramWins).isGreaterThan(50);
  }

  private static Candidate scan(
      List<Candidate> candidates, String method, String host, String path) {
    String normalized = host == null ? null : host.toLowerCase();
    return candidates.stream()
        .filter(c -> c.regex().matcher(path).matches())
        .filter(c -> c.spec().methods() == null || c.spec().methods().contains(method))
        .filter(c -> c.spec().hosts() == null || hostMatches(c.spec().hosts(), normalized))
        .min(
            Comparator.<Candidate>comparingInt(c -> -c.spec().priority())
                .thenComparingInt(Candidate::kind)
                .thenComparingInt(c -> -c.length())
                .thenComparing(c -> c.spec().hosts() == null)
                .thenComparing(c -> c.spec().id()))
        .orElse(null);
  }

  private static boolean hostMatches(List<String> hosts, String host) {
    if (host == null) {
      return false;
    }
    for (String h : hosts) {
      if (h.startsWith("*")
          ? host.endsWith(h.substring(1)) && host.length() > h.length() - 1
          : h.equals(host)) {
        return true;
      }
    }
    return false;
  }

  /** kind: 0 exact, 1 parameter, 2 prefix. */
  private static Candidate candidate(Spec spec, String uri) {
    boolean prefix = uri.endsWith("*");
    String pattern = prefix ? uri.substring(0, uri.length() - 1) : uri;
    StringBuilder regex = new StringBuilder();
    boolean param = false;
    String[] segments = pattern.split("/", -1);
    for (int i = 1; i < segments.length; i++) {
      regex.append('/');
      String segment = segments[i];
      if (segment.length() > 1 && segment.startsWith(":")) {
        regex.append("[^/]+");
        param = true;
      } else {
        regex.append(Pattern.quote(segment));
      }
    }
    if (prefix) {
      regex.append(".*");
    }
    int kind = prefix ? 2 : param ? 1 : 0;
    return new Candidate(spec, Pattern.compile(regex.toString()), kind, pattern.length());
  }

  private static Spec randomSpec(Random random, int i) {
    List<String> uris = new ArrayList<>();
    int count = random.nextInt(10) == 0 ? 2 : 1;
    for (int u = 0; u < count; u++) {
      uris.add(randomUri(random));
    }
    int roll = random.nextInt(10);
    int priority = roll == 0 ? 1 : roll == 1 ? -1 : 0;
    List<String> methods =
        random.nextInt(4) == 0 ? List.of(METHODS[random.nextInt(METHODS.length)]) : null;
    List<String> hosts =
        switch (random.nextInt(6)) {
          case 0 -> List.of("h1.com");
          case 1 -> List.of("*.w.com");
          default -> null;
        };
    // Ids not in creation order, so the smaller id is not simply the first route added.
    String id = "r" + Integer.toString((i * 7919) % 10007, 36);
    return new Spec(id, uris, priority, methods, hosts);
  }

  private static String randomUri(Random random) {
    StringBuilder uri = new StringBuilder();
    int depth = 1 + random.nextInt(4);
    for (int d = 0; d < depth; d++) {
      uri.append('/');
      uri.append(random.nextInt(5) == 0 ? ":p" + d : SEGMENTS[random.nextInt(SEGMENTS.length)]);
    }
    switch (random.nextInt(10)) {
      case 0, 1, 2 -> uri.append("/*");
      case 3, 4 -> uri.append('*');
      case 5 -> uri.append('/');
      default -> {}
    }
    return uri.toString();
  }

  private static String randomPath(Random random, String[] segments) {
    StringBuilder path = new StringBuilder();
    int depth = 1 + random.nextInt(5);
    for (int d = 0; d < depth; d++) {
      path.append('/').append(segments[random.nextInt(segments.length)]);
    }
    return path.toString();
  }

  private static Resource resource(Spec spec) {
    ObjectNode value = JSON.createObjectNode();
    value.put("id", spec.id());
    ArrayNode uris = value.putArray("uris");
    spec.uris().forEach(uris::add);
    value.put("priority", spec.priority());
    if (spec.methods() != null) {
      ArrayNode methods = value.putArray("methods");
      spec.methods().forEach(methods::add);
    }
    if (spec.hosts() != null) {
      ArrayNode hosts = value.putArray("hosts");
      spec.hosts().forEach(hosts::add);
    }
    value.putObject("upstream").putObject("nodes").put("127.0.0.1:1980", 1);
    return Resource.parse(ResourceType.ROUTES, spec.id(), value);
  }
}
