package io.ballast.service.proxy;

import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The data plane's router: APISIX routes, services and upstreams compiled once, off the request
 * path, into an immutable table. A new configuration builds a new table; requests in flight keep
 * the table they started with.
 *
 * <p>Matching follows APISIX for {@code uri}/{@code uris} (exact, or prefix when ending in {@code
 * *}), {@code methods}, {@code host}/{@code hosts} (with {@code *.} wildcards; the service's hosts
 * when the route has none), {@code priority} and {@code status}. Among matching routes the winner
 * has the higher priority, then an exact uri over a prefix, then the longer prefix, then a host
 * condition over none, then the smaller route id.
 */
public final class RouteTable {

  private static final RouteTable EMPTY = new RouteTable(Map.of(), List.of());

  /** Exact uri → candidate entries in winner order. */
  private final Map<String, List<Entry>> exact;

  /** Prefix entries in winner order: priority, then longer prefix first. */
  private final List<Entry> prefixes;

  private RouteTable(Map<String, List<Entry>> exact, List<Entry> prefixes) {
    this.exact = exact;
    this.prefixes = prefixes;
  }

  /** A table without routes: every request gets 404. */
  public static RouteTable empty() {
    return EMPTY;
  }

  /**
   * Compiles routes with the services and upstreams they reference, keyed by id.
   *
   * @throws IllegalArgumentException naming the resource type, id and field of the first resource
   *     that cannot be compiled; nothing is built then
   */
  public static RouteTable compile(
      Collection<Resource> routes,
      Map<String, Resource> services,
      Map<String, Resource> upstreams) {
    Map<String, Upstream> compiledUpstreams = new HashMap<>();
    upstreams.forEach(
        (id, resource) -> {
          Fields fields = fieldsOf(resource, ResourceType.UPSTREAMS);
          compiledUpstreams.put(id, Upstream.parse(resource.value(), fields, ""));
        });
    Map<String, Service> compiledServices = new HashMap<>();
    services.forEach(
        (id, resource) -> compiledServices.put(id, Service.compile(resource, compiledUpstreams)));

    Map<String, List<Entry>> exact = new HashMap<>();
    List<Entry> prefixes = new ArrayList<>();
    for (Resource resource : routes) {
      Route route = Route.compile(resource, compiledServices, compiledUpstreams);
      if (!route.enabled) {
        continue;
      }
      for (String uri : route.uris) {
        if (uri.endsWith("*")) {
          prefixes.add(new Entry(route, uri.substring(0, uri.length() - 1), true));
        } else {
          exact.computeIfAbsent(uri, k -> new ArrayList<>()).add(new Entry(route, uri, false));
        }
      }
    }
    Map<String, List<Entry>> frozen = new HashMap<>();
    exact.forEach((uri, list) -> frozen.put(uri, sorted(list)));
    return new RouteTable(Map.copyOf(frozen), sorted(prefixes));
  }

  /**
   * The winning route for a request, if any.
   *
   * @param host the Host header as sent (a port, if any, is ignored); {@code null} when absent
   * @param path the request path without the query string
   */
  public Optional<RouteMatch> match(String method, String host, String path) {
    String normalizedHost = normalizeHost(host);
    Entry best = null;
    List<Entry> candidates = exact.get(path);
    if (candidates != null) {
      for (Entry entry : candidates) {
        if (entry.route.accepts(method, normalizedHost)) {
          best = entry;
          break;
        }
      }
    }
    for (Entry entry : prefixes) {
      // An exact match wins over every prefix of the same or lower priority.
      if (best != null && entry.route.priority <= best.route.priority) {
        break;
      }
      if (path.startsWith(entry.pattern) && entry.route.accepts(method, normalizedHost)) {
        best = entry;
        break;
      }
    }
    return best == null ? Optional.empty() : Optional.of(best.route.match);
  }

  private static List<Entry> sorted(List<Entry> entries) {
    List<Entry> copy = new ArrayList<>(entries);
    copy.sort(WINNER_FIRST);
    return List.copyOf(copy);
  }

  private static final Comparator<Entry> WINNER_FIRST =
      Comparator.<Entry>comparingInt(e -> -e.route.priority)
          .thenComparing(e -> e.prefix)
          .thenComparingInt(e -> -e.pattern.length())
          .thenComparing(e -> e.route.hosts == null)
          .thenComparing(e -> e.route.id);

  /** Lower case, without the port; {@code null} for an absent or empty host. */
  static String normalizeHost(String host) {
    if (host == null || host.isEmpty()) {
      return null;
    }
    String h = host;
    if (h.startsWith("[")) {
      int close = h.indexOf(']');
      h = close > 0 ? h.substring(1, close) : h;
    } else {
      int colon = h.indexOf(':');
      if (colon >= 0 && h.indexOf(':', colon + 1) < 0) {
        h = h.substring(0, colon);
      }
    }
    return h.toLowerCase(Locale.ROOT);
  }

  private static Fields fieldsOf(Resource resource, ResourceType expected) {
    Fields fields = new Fields(resource.type().singular() + " '" + resource.id() + "'");
    if (resource.type() != expected) {
      throw fields.invalid("type", "expected a " + expected.singular());
    }
    return fields;
  }

  /** An id reference; APISIX accepts ids as strings or integers. */
  private static String id(JsonNode node, Fields fields, String field) {
    if (node.isIntegralNumber()) {
      return node.asString();
    }
    return fields.string(node, field);
  }

  private static Hosts parseHosts(ObjectNode value, Fields fields) {
    JsonNode hosts = value.get("hosts");
    if (Fields.present(hosts)) {
      return Hosts.of(fields.strings(hosts, "hosts"), fields, "hosts");
    }
    JsonNode host = value.get("host");
    if (Fields.present(host)) {
      return Hosts.of(List.of(fields.string(host, "host")), fields, "host");
    }
    return null;
  }

  /**
   * Resolves {@code upstream} (inline) or else {@code upstream_id}. Returns {@code null} when
   * neither is set, so the caller falls back to the service. An {@code upstream_id} naming no
   * upstream resolves to empty rather than falling back: a broken reference answers 503 instead of
   * quietly reaching another upstream.
   */
  private static Optional<Upstream> ownUpstream(
      ObjectNode value, Fields fields, Map<String, Upstream> upstreams) {
    JsonNode inline = value.get("upstream");
    if (Fields.present(inline)) {
      if (!inline.isObject()) {
        throw fields.invalid("upstream", "must be an object");
      }
      return Optional.of(Upstream.parse((ObjectNode) inline, fields, "upstream."));
    }
    JsonNode upstreamId = value.get("upstream_id");
    if (Fields.present(upstreamId)) {
      return Optional.ofNullable(upstreams.get(id(upstreamId, fields, "upstream_id")));
    }
    return null;
  }

  /** Host conditions: exact names and {@code *.suffix} wildcards, lower case. */
  private record Hosts(Set<String> exact, List<String> wildcardSuffixes) {

    static Hosts of(List<String> names, Fields fields, String field) {
      Set<String> exact = new HashSet<>();
      List<String> suffixes = new ArrayList<>();
      for (String name : names) {
        String host = name.toLowerCase(Locale.ROOT);
        // APISIX's host_def: a leading '*' matches any prefix, so '*foo.com' takes 'barfoo.com'.
        if (host.startsWith("*") && host.length() > 1 && host.indexOf('*', 1) < 0) {
          suffixes.add(host.substring(1));
        } else if (host.isEmpty() || host.indexOf('*') >= 0) {
          throw fields.invalid(field, "'" + name + "' is not a host name or *wildcard");
        } else {
          exact.add(host);
        }
      }
      return new Hosts(Set.copyOf(exact), List.copyOf(suffixes));
    }

    boolean matches(String host) {
      if (host == null) {
        return false;
      }
      if (exact.contains(host)) {
        return true;
      }
      for (String suffix : wildcardSuffixes) {
        if (host.length() > suffix.length() && host.endsWith(suffix)) {
          return true;
        }
      }
      return false;
    }
  }

  /** What routes inherit from a service: hosts and an upstream. */
  private record Service(Hosts hosts, Optional<Upstream> upstream) {

    static Service compile(Resource resource, Map<String, Upstream> upstreams) {
      Fields fields = fieldsOf(resource, ResourceType.SERVICES);
      ObjectNode value = resource.value();
      return new Service(parseHosts(value, fields), ownUpstream(value, fields, upstreams));
    }
  }

  private static final class Route {
    final String id;
    final boolean enabled;
    final int priority;
    final List<String> uris;
    final Set<String> methods; // null: any method
    final Hosts hosts; // null: any host
    final RouteMatch match;

    private Route(
        String id,
        boolean enabled,
        int priority,
        List<String> uris,
        Set<String> methods,
        Hosts hosts,
        Optional<Upstream> upstream) {
      this.id = id;
      this.enabled = enabled;
      this.priority = priority;
      this.uris = uris;
      this.methods = methods;
      this.hosts = hosts;
      this.match = new RouteMatch(id, upstream);
    }

    static Route compile(
        Resource resource, Map<String, Service> services, Map<String, Upstream> upstreams) {
      Fields fields = fieldsOf(resource, ResourceType.ROUTES);
      ObjectNode value = resource.value();

      List<String> uris = new ArrayList<>();
      JsonNode uri = value.get("uri");
      if (Fields.present(uri)) {
        uris.add(fields.string(uri, "uri"));
      }
      JsonNode uriList = value.get("uris");
      if (Fields.present(uriList)) {
        uris.addAll(fields.strings(uriList, "uris"));
      }
      if (uris.isEmpty()) {
        throw fields.invalid("uri", "a route needs uri or uris");
      }
      for (String u : uris) {
        if (!u.startsWith("/")) {
          throw fields.invalid("uri", "'" + u + "' must start with '/'");
        }
      }

      Set<String> methods = null;
      JsonNode methodList = value.get("methods");
      if (Fields.present(methodList)) {
        methods = new HashSet<>();
        for (String m : fields.strings(methodList, "methods")) {
          methods.add(m.toUpperCase(Locale.ROOT));
        }
        methods = Set.copyOf(methods);
      }

      int priority = 0;
      JsonNode priorityNode = value.get("priority");
      if (Fields.present(priorityNode)) {
        priority = fields.integer(priorityNode, "priority", Integer.MIN_VALUE, Integer.MAX_VALUE);
      }
      boolean enabled = true;
      JsonNode status = value.get("status");
      if (Fields.present(status)) {
        enabled = fields.integer(status, "status", 0, 1) == 1;
      }

      Service service = null;
      JsonNode serviceId = value.get("service_id");
      if (Fields.present(serviceId)) {
        service = services.get(id(serviceId, fields, "service_id"));
      }
      Hosts hosts = parseHosts(value, fields);
      if (hosts == null && service != null) {
        hosts = service.hosts();
      }
      Optional<Upstream> upstream = ownUpstream(value, fields, upstreams);
      if (upstream == null) {
        upstream =
            service == null || service.upstream() == null ? Optional.empty() : service.upstream();
      }
      return new Route(
          resource.id(), enabled, priority, List.copyOf(uris), methods, hosts, upstream);
    }

    boolean accepts(String method, String host) {
      return (methods == null || methods.contains(method))
          && (hosts == null || hosts.matches(host));
    }
  }

  /** One uri of one route: exact, or a prefix (the pattern without its trailing {@code *}). */
  private record Entry(Route route, String pattern, boolean prefix) {}
}
