package io.ballast.gateway.route;

import io.ballast.gateway.http.RouteRequest;
import io.ballast.gateway.http.RouteVars;
import io.ballast.gateway.plugin.PluginChain;
import io.ballast.gateway.plugin.PluginCompiler;
import io.ballast.gateway.plugin.PluginRegistry;
import io.ballast.gateway.plugin.PluginState;
import io.ballast.gateway.tls.CertificateTable;
import io.ballast.gateway.upstream.Upstream;
import io.ballast.resource.Cidr;
import io.ballast.resource.Fields;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
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
      new RouteTable(
          Map.of(),
          PathTrie.build(List.of(), Entry.WINNER_FIRST),
          Integer.MIN_VALUE,
          PluginChain.EMPTY,
          PluginState.empty(),
          List.of(),
          CertificateTable.empty());

  /** Exact uri → candidate entries in winner order. */
  private final Map<String, Entry[]> exact;

  /** Prefix and parameter patterns. */
  private final PathTrie patterns;

  /** The highest priority in {@link #patterns}: an exact winner at or above it cannot be beaten. */
  private final int topPatternPriority;

  /** The global rules' plugins, which run for every request, matched or not. */
  private final PluginChain globalPlugins;

  /** Plugin state (counters) for the next table to carry over. */
  private final PluginState pluginState;

  /** Every upstream with health checks, each once. */
  private final List<Upstream> checkedUpstreams;

  /** The ssls' certificates by SNI, swapped with the routes. */
  private final CertificateTable certificates;

  private RouteTable(
      Map<String, Entry[]> exact,
      PathTrie patterns,
      int topPatternPriority,
      PluginChain globalPlugins,
      PluginState pluginState,
      List<Upstream> checkedUpstreams,
      CertificateTable certificates) {
    this.exact = exact;
    this.patterns = patterns;
    this.topPatternPriority = topPatternPriority;
    this.globalPlugins = globalPlugins;
    this.pluginState = pluginState;
    this.checkedUpstreams = checkedUpstreams;
    this.certificates = certificates;
  }

  /** A table without routes: every request gets 404. */
  public static RouteTable empty() {
    return EMPTY;
  }

  /**
   * Compiles routes with the services and upstreams they reference, keyed by id, without plugins,
   * consumers or global rules.
   *
   * @throws IllegalArgumentException naming the resource type, id and field of the first resource
   *     that cannot be compiled; nothing is built then
   */
  public static RouteTable compile(
      Collection<Resource> routes,
      Map<String, Resource> services,
      Map<String, Resource> upstreams) {
    Map<String, Resource> routeMap = new HashMap<>();
    routes.forEach(r -> routeMap.put(r.id(), r));
    Map<ResourceType, Map<String, Resource>> byType =
        Map.of(
            ResourceType.ROUTES, routeMap,
            ResourceType.SERVICES, services,
            ResourceType.UPSTREAMS, upstreams);
    return compile(
        type -> byType.getOrDefault(type, Map.of()),
        PluginRegistry.of(List.of()),
        PluginState.empty(),
        CertificateTable.empty());
  }

  /**
   * Compiles a whole configuration. {@code previous} is the table being replaced: plugin state such
   * as rate-limit counters, and TLS contexts of unchanged ssls, carry over from it.
   *
   * @throws IllegalArgumentException naming the resource type, id and field of the first resource
   *     that cannot be compiled; nothing is built then
   */
  public static RouteTable compile(
      ResourceSet resources, PluginRegistry plugins, RouteTable previous) {
    return compile(resources::of, plugins, previous.pluginState, previous.certificates);
  }

  private static RouteTable compile(
      Function<ResourceType, Map<String, Resource>> resources,
      PluginRegistry registry,
      PluginState previousState,
      CertificateTable previousCertificates) {
    PluginCompiler plugins = new PluginCompiler(registry, previousState, metadata(resources));
    plugins.compileConsumers(resources.apply(ResourceType.CONSUMERS).values());
    // Each holder's plugins alone first, so that an error names the resource that holds it.
    Map<String, JsonNode> pluginConfigs = new HashMap<>();
    resources
        .apply(ResourceType.PLUGIN_CONFIGS)
        .forEach(
            (id, resource) -> {
              plugins.compile(
                  resource.value().get("plugins"), fieldsOf(resource, ResourceType.PLUGIN_CONFIGS));
              pluginConfigs.put(id, resource.value().get("plugins"));
            });
    List<PluginChain.Entry> globalEntries = new ArrayList<>();
    for (Resource rule : resources.apply(ResourceType.GLOBAL_RULES).values()) {
      PluginChain chain =
          plugins.compile(rule.value().get("plugins"), fieldsOf(rule, ResourceType.GLOBAL_RULES));
      globalEntries.addAll(chain.entries());
    }

    Map<String, Upstream> compiledUpstreams = new HashMap<>();
    resources
        .apply(ResourceType.UPSTREAMS)
        .forEach(
            (id, resource) -> {
              Fields fields = fieldsOf(resource, ResourceType.UPSTREAMS);
              compiledUpstreams.put(id, Upstream.parse(resource.value(), fields, ""));
            });
    Map<String, Service> compiledServices = new HashMap<>();
    resources
        .apply(ResourceType.SERVICES)
        .forEach(
            (id, resource) ->
                compiledServices.put(id, Service.compile(resource, compiledUpstreams, plugins)));

    // Identity: an inline upstream is one object however many routes share its service.
    Set<Upstream> checked = Collections.newSetFromMap(new IdentityHashMap<>());
    checked.addAll(compiledUpstreams.values());
    for (Service service : compiledServices.values()) {
      if (service.upstream() != null) {
        service.upstream().ifPresent(checked::add);
      }
    }
    Map<String, List<Entry>> exact = new HashMap<>();
    List<Entry> patterned = new ArrayList<>();
    int topPatternPriority = Integer.MIN_VALUE;
    for (Resource resource : resources.apply(ResourceType.ROUTES).values()) {
      Route route =
          Route.compile(resource, compiledServices, compiledUpstreams, pluginConfigs, plugins);
      if (!route.enabled) {
        continue;
      }
      route.match.get().upstream().ifPresent(checked::add);
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
        Map.copyOf(frozen),
        PathTrie.build(patterned, Entry.WINNER_FIRST),
        topPatternPriority,
        PluginChain.of(globalEntries),
        plugins.state(),
        checked.stream().filter(u -> u.checks() != null).toList(),
        CertificateTable.compile(resources.apply(ResourceType.SSLS), previousCertificates));
  }

  /**
   * Compiles one resource on its own, as the Admin API does before it stores a write: every field
   * the data plane reads is checked, references to other resources are not (the store checks
   * those).
   *
   * @param consumers every consumer the write leaves in place, the written one included when it is
   *     a consumer, so credentials are checked against each other
   * @throws IllegalArgumentException naming the resource and field at fault
   */
  public static void check(
      Resource resource, PluginRegistry registry, Collection<Resource> consumers) {
    PluginCompiler plugins = new PluginCompiler(registry, PluginState.empty(), Map.of());
    plugins.compileConsumers(consumers);
    Fields fields = fieldsOf(resource, resource.type());
    switch (resource.type()) {
      case UPSTREAMS -> Upstream.parse(resource.value(), fields, "");
      case SERVICES -> Service.compile(resource, Map.of(), plugins);
      case ROUTES -> Route.compile(resource, Map.of(), Map.of(), Map.of(), plugins);
      case PLUGIN_CONFIGS, GLOBAL_RULES -> plugins.compile(resource.value().get("plugins"), fields);
      case PLUGIN_METADATA -> {
        if (registry.get(resource.id()).isEmpty()) {
          throw fields.invalid(
              "id", "unknown plugin '" + resource.id() + "'; Ballast runs " + registry.names());
        }
      }
      case SSLS -> CertificateTable.check(resource);
      case CONSUMERS -> {}
    }
  }

  private static Map<String, ObjectNode> metadata(
      Function<ResourceType, Map<String, Resource>> resources) {
    Map<String, ObjectNode> metadata = new HashMap<>();
    resources.apply(ResourceType.PLUGIN_METADATA).forEach((id, r) -> metadata.put(id, r.value()));
    return metadata;
  }

  /** The global rules' plugins, which run for every request, matched or not. */
  public PluginChain globalPlugins() {
    return globalPlugins;
  }

  /** Every upstream with health checks, each once. */
  public List<Upstream> checkedUpstreams() {
    return checkedUpstreams;
  }

  /** The server certificates by SNI, for the TLS listener's handshakes. */
  public CertificateTable certificates() {
    return certificates;
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
    String host = RouteRequest.normalizeHost(request.host());
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

  /**
   * What routes inherit from a service: hosts, an upstream, plugins and {@code enable_websocket}
   * ({@code null} when the service does not set it).
   */
  private record Service(
      Hosts hosts, Optional<Upstream> upstream, JsonNode plugins, Boolean websocket) {

    static Service compile(
        Resource resource, Map<String, Upstream> upstreams, PluginCompiler pluginCompiler) {
      Fields fields = fieldsOf(resource, ResourceType.SERVICES);
      ObjectNode value = resource.value();
      JsonNode plugins = value.get("plugins");
      // Checked here so that an error names the service; each route compiles its merged copy.
      pluginCompiler.compile(plugins, fields);
      return new Service(
          parseHosts(value, fields),
          ownUpstream(value, fields, upstreams),
          plugins,
          fields.optionalBoolean(value.get("enable_websocket"), "enable_websocket"));
    }
  }

  static final class Route {
    final String id;
    final boolean enabled;
    final int priority;
    final List<String> uris;
    final int methodBits; // methodBit of each method allowed; ANY_METHOD without a list
    final Hosts hosts; // null: any host
    final Cidr[] remoteAddrs; // null: any client
    final RouteVars vars; // null: no expressions
    final Optional<RouteMatch> match;

    private Route(
        String id,
        boolean enabled,
        int priority,
        List<String> uris,
        int methodBits,
        Hosts hosts,
        Cidr[] remoteAddrs,
        RouteVars vars,
        Optional<Upstream> upstream,
        String serviceId,
        PluginChain plugins,
        boolean websocket) {
      this.id = id;
      this.enabled = enabled;
      this.priority = priority;
      this.uris = uris;
      this.methodBits = methodBits;
      this.hosts = hosts;
      this.remoteAddrs = remoteAddrs;
      this.vars = vars;
      this.match = Optional.of(new RouteMatch(id, upstream, serviceId, plugins, websocket));
    }

    static Route compile(
        Resource resource,
        Map<String, Service> services,
        Map<String, Upstream> upstreams,
        Map<String, JsonNode> pluginConfigs,
        PluginCompiler pluginCompiler) {
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

      int methodBits = ANY_METHOD;
      JsonNode methodList = value.get("methods");
      if (Fields.present(methodList)) {
        methodBits = 0;
        for (String m : fields.strings(methodList, "methods")) {
          int bit = methodBit(m.toUpperCase(Locale.ROOT));
          if (bit == OTHER_METHOD) {
            throw fields.invalid("methods", "'" + m + "' is not a method routes can name");
          }
          methodBits |= bit;
        }
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
      String serviceId = null;
      JsonNode serviceIdNode = value.get("service_id");
      if (Fields.present(serviceIdNode)) {
        serviceId = id(serviceIdNode, fields, "service_id");
        service = services.get(serviceId);
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
      Boolean websocket = fields.optionalBoolean(value.get("enable_websocket"), "enable_websocket");
      if (websocket == null) {
        websocket = service != null && Boolean.TRUE.equals(service.websocket());
      }
      return new Route(
          resource.id(),
          enabled,
          priority,
          List.copyOf(uris),
          methodBits,
          hosts,
          remoteAddrs,
          vars,
          upstream,
          serviceId,
          compilePlugins(value, fields, service, pluginConfigs, pluginCompiler),
          websocket);
    }

    /**
     * The route's plugins with APISIX's precedence: its own over its plugin config's over its
     * service's. The merged copy is compiled for this route, so a limit on a service counts per
     * route, as in APISIX.
     */
    private static PluginChain compilePlugins(
        ObjectNode value,
        Fields fields,
        Service service,
        Map<String, JsonNode> pluginConfigs,
        PluginCompiler pluginCompiler) {
      JsonNode own = value.get("plugins");
      JsonNode fromConfig = null;
      JsonNode configId = value.get("plugin_config_id");
      if (Fields.present(configId)) {
        fromConfig = pluginConfigs.get(id(configId, fields, "plugin_config_id"));
      }
      JsonNode fromService = service == null ? null : service.plugins();
      if (fromConfig == null && fromService == null) {
        return pluginCompiler.compile(own, fields);
      }
      // The route's own plugins are checked alone so that an error names their field exactly.
      pluginCompiler.compile(own, fields);
      ObjectNode merged =
          PluginCompiler.merge(JsonNodeFactory.instance.objectNode(), fromService, fromConfig, own);
      return pluginCompiler.compile(merged, fields);
    }

    /** Everything but the uri; {@code host} is the request's, normalised. Cheapest tests first. */
    boolean accepts(RouteRequest request, String host) {
      return (methodBits & methodBit(request.method())) != 0
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

  // Methods as bits: a route's list is one int instead of a set of strings per route, and a
  // candidate route is checked without reading either.
  private static final int ANY_METHOD = -1;
  private static final int OTHER_METHOD = 1 << 30;

  /** The bit of one of the methods APISIX routes accept; {@link #OTHER_METHOD} for the rest. */
  private static int methodBit(String method) {
    return switch (method) {
      case "GET" -> 1;
      case "POST" -> 1 << 1;
      case "PUT" -> 1 << 2;
      case "DELETE" -> 1 << 3;
      case "PATCH" -> 1 << 4;
      case "HEAD" -> 1 << 5;
      case "OPTIONS" -> 1 << 6;
      case "CONNECT" -> 1 << 7;
      case "TRACE" -> 1 << 8;
      case "PURGE" -> 1 << 9;
      default -> OTHER_METHOD;
    };
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
