package io.ballast.service.proxy;

import io.ballast.resource.Cidr;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
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
 * <p>Matching follows APISIX for {@code uri}/{@code uris} (exact; prefix when ending in {@code *};
 * {@code :name} segments that match one whole non-empty segment), {@code methods}, {@code
 * host}/{@code hosts} (with {@code *.} wildcards; the service's hosts when the route has none),
 * {@code remote_addr}/{@code remote_addrs} (addresses and CIDRs, against the TCP peer), {@code
 * vars} (see {@link RouteVars}), {@code priority} and {@code status}. Among matching routes the
 * winner has the higher priority, then an exact uri over a parameter pattern over a prefix, then
 * the longer pattern, then a host condition over none, then the smaller route id.
 *
 * <p>Exact uris are a hash lookup and every other pattern sits in a {@link PathTrie}, so the cost
 * of a match follows the path's length and the routes that share it, not the size of the table.
 */
public final class RouteTable {

  private static final RouteTable EMPTY =
      new RouteTable(Map.of(), PathTrie.build(List.of(), Entry.WINNER_FIRST), Integer.MIN_VALUE);

  /** Exact uri → candidate entries in winner order. */
  private final Map<String, Entry[]> exact;

  /** Prefix and parameter patterns. */
  private final PathTrie patterns;

  /** The highest priority in {@link #patterns}: an exact winner at or above it cannot be beaten. */
  private final int topPatternPriority;

  private RouteTable(Map<String, Entry[]> exact, PathTrie patterns, int topPatternPriority) {
    this.exact = exact;
    this.patterns = patterns;
    this.topPatternPriority = topPatternPriority;
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
    List<Entry> patterned = new ArrayList<>();
    int topPatternPriority = Integer.MIN_VALUE;
    for (Resource resource : routes) {
      Route route = Route.compile(resource, compiledServices, compiledUpstreams);
      if (!route.enabled) {
        continue;
      }
      for (String uri : route.uris) {
        Entry entry = Entry.of(route, uri);
        if (entry.kind == Kind.EXACT) {
          exact.computeIfAbsent(uri, k -> new ArrayList<>()).add(entry);
        } else {
          patterned.add(entry);
          topPatternPriority = Math.max(topPatternPriority, route.priority);
        }
      }
    }
    Map<String, Entry[]> frozen = new HashMap<>();
    exact.forEach(
        (uri, list) -> {
          Entry[] sorted = list.toArray(Entry[]::new);
          Arrays.sort(sorted, Entry.WINNER_FIRST);
          frozen.put(uri, sorted);
        });
    return new RouteTable(
        Map.copyOf(frozen), PathTrie.build(patterned, Entry.WINNER_FIRST), topPatternPriority);
  }

  /**
   * The winning route for a request with only a method, host and path; routes that ask for an
   * address, headers, query parameters or cookies see none.
   *
   * @param host the Host header as sent (a port, if any, is ignored); {@code null} when absent
   * @param path the request path without the query string
   */
  public Optional<RouteMatch> match(String method, String host, String path) {
    return match(RouteRequest.of(method, host, path));
  }

  /** The winning route for a request, if any. */
  public Optional<RouteMatch> match(RouteRequest request) {
    String host = normalizeHost(request.host());
    Entry best = null;
    Entry[] candidates = exact.get(request.path());
    if (candidates != null) {
      for (Entry entry : candidates) {
        if (entry.route.accepts(request, host)) {
          best = entry;
          break;
        }
      }
    }
    // An exact uri beats every pattern of the same or a lower priority.
    if (best == null || best.route.priority < topPatternPriority) {
      best = patterns.match(request, host, best);
    }
    return best == null ? Optional.empty() : best.route.match;
  }

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

  static final class Route {
    final String id;
    final boolean enabled;
    final int priority;
    final List<String> uris;
    final Set<String> methods; // null: any method
    final Hosts hosts; // null: any host
    final Cidr[] remoteAddrs; // null: any client
    final RouteVars vars; // null: no expressions
    final Optional<RouteMatch> match;

    private Route(
        String id,
        boolean enabled,
        int priority,
        List<String> uris,
        Set<String> methods,
        Hosts hosts,
        Cidr[] remoteAddrs,
        RouteVars vars,
        Optional<Upstream> upstream) {
      this.id = id;
      this.enabled = enabled;
      this.priority = priority;
      this.uris = uris;
      this.methods = methods;
      this.hosts = hosts;
      this.remoteAddrs = remoteAddrs;
      this.vars = vars;
      this.match = Optional.of(new RouteMatch(id, upstream));
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
      Cidr[] remoteAddrs = parseRemoteAddrs(value, fields);
      JsonNode varsNode = value.get("vars");
      RouteVars vars = Fields.present(varsNode) ? RouteVars.compile(varsNode, fields) : null;
      Optional<Upstream> upstream = ownUpstream(value, fields, upstreams);
      if (upstream == null) {
        upstream =
            service == null || service.upstream() == null ? Optional.empty() : service.upstream();
      }
      return new Route(
          resource.id(),
          enabled,
          priority,
          List.copyOf(uris),
          methods,
          hosts,
          remoteAddrs,
          vars,
          upstream);
    }

    /** Everything but the uri; {@code host} is the request's, normalised. Cheapest tests first. */
    boolean accepts(RouteRequest request, String host) {
      return (methods == null || methods.contains(request.method()))
          && (hosts == null || hosts.matches(host))
          && (remoteAddrs == null || anyContains(remoteAddrs, request))
          && (vars == null || vars.matches(request));
    }

    private static boolean anyContains(Cidr[] blocks, RouteRequest request) {
      InetAddress client = request.remoteAddress();
      for (Cidr block : blocks) {
        if (block.matches(client)) {
          return true;
        }
      }
      return false;
    }
  }

  /** {@code remote_addr} or {@code remote_addrs}, as APISIX takes them (not both). */
  private static Cidr[] parseRemoteAddrs(ObjectNode value, Fields fields) {
    JsonNode many = value.get("remote_addrs");
    JsonNode one = value.get("remote_addr");
    if (Fields.present(many) && Fields.present(one)) {
      throw fields.invalid("remote_addrs", "give either remote_addr or remote_addrs, not both");
    }
    List<String> texts;
    String field;
    if (Fields.present(many)) {
      texts = fields.strings(many, "remote_addrs");
      if (texts.isEmpty()) {
        throw fields.invalid("remote_addrs", "must not be empty");
      }
      field = "remote_addrs";
    } else if (Fields.present(one)) {
      texts = List.of(fields.string(one, "remote_addr"));
      field = "remote_addr";
    } else {
      return null;
    }
    Cidr[] blocks = new Cidr[texts.size()];
    for (int i = 0; i < blocks.length; i++) {
      try {
        blocks[i] = Cidr.parse(texts.get(i));
      } catch (IllegalArgumentException e) {
        throw fields.invalid(
            field.equals("remote_addr") ? field : field + "[" + i + "]", e.getMessage());
      }
    }
    return blocks;
  }

  /** How specific a uri pattern is, most specific first. */
  enum Kind {
    EXACT,
    PARAM,
    PREFIX
  }

  /**
   * One uri of one route. {@code pattern} is the uri without a trailing {@code *}; a uri with a
   * {@code :name} segment is {@link Kind#PARAM} unless it also ends in {@code *}.
   */
  record Entry(Route route, String pattern, Kind kind) {

    static final Comparator<Entry> WINNER_FIRST =
        Comparator.<Entry>comparingInt(e -> -e.route.priority)
            .thenComparing(Entry::kind)
            .thenComparingInt(e -> -e.pattern.length())
            .thenComparing(e -> e.route.hosts == null)
            .thenComparing(e -> e.route.id);

    static Entry of(Route route, String uri) {
      if (uri.endsWith("*")) {
        return new Entry(route, uri.substring(0, uri.length() - 1), Kind.PREFIX);
      }
      for (int i = 0; i < uri.length(); i++) {
        if (PathTrie.paramEnd(uri, i) > 0) {
          return new Entry(route, uri, Kind.PARAM);
        }
      }
      return new Entry(route, uri, Kind.EXACT);
    }
  }
}
