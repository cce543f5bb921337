package io.ballast.gateway.route;

import io.ballast.gateway.http.RouteRequest;
import io.ballast.gateway.plugin.PluginChain;
import io.ballast.gateway.plugin.PluginCompiler;
import io.ballast.gateway.plugin.PluginRegistry;
import io.ballast.gateway.plugin.PluginState;
import io.ballast.gateway.tls.CertificateTable;
import io.ballast.gateway.upstream.Upstream;
import io.ballast.resource.Cidr;
import io.ballast.resource.Fields;
import io.ballast.resource.GlobalRuleSpec;
import io.ballast.resource.PluginConfigSpec;
import io.ballast.resource.Plugins;
import io.ballast.resource.RequestVariable;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import io.ballast.resource.RouteSpec;
import io.ballast.resource.ServiceSpec;
import io.ballast.resource.UpstreamSpec;
import io.ballast.resource.Vars;
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
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
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
 * vars} (see {@link io.ballast.resource.Vars}), {@code priority} and {@code status}. Among matching
 * routes the winner has the higher priority, then an exact uri over a parameter pattern over a
 * prefix, then the longer pattern, then a host condition over none, then the smaller route id.
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
    Map<String, Plugins> pluginConfigs = new HashMap<>();
    for (Resource config : resources.apply(ResourceType.PLUGIN_CONFIGS).values()) {
      Plugins configured = config.spec(PluginConfigSpec.class).plugins();
      plugins.compile(configured, fieldsOf(config));
      pluginConfigs.put(config.id(), configured);
    }
    List<PluginChain.Entry> globalEntries = new ArrayList<>();
    for (Resource rule : resources.apply(ResourceType.GLOBAL_RULES).values()) {
      PluginChain chain =
          plugins.compile(rule.spec(GlobalRuleSpec.class).plugins(), fieldsOf(rule));
      globalEntries.addAll(chain.entries());
    }

    Map<String, Upstream> compiledUpstreams = new HashMap<>();
    for (Resource upstream : resources.apply(ResourceType.UPSTREAMS).values()) {
      compiledUpstreams.put(
          upstream.id(), Upstream.compile(upstream.spec(UpstreamSpec.class), upstream.owner()));
    }
    Map<String, Service> compiledServices = new HashMap<>();
    for (Resource service : resources.apply(ResourceType.SERVICES).values()) {
      compiledServices.put(service.id(), Service.compile(service, compiledUpstreams, plugins));
    }

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
   * Compiles what the data plane builds of one resource on its own, as the Admin API does before it
   * stores a write: its plugins (with the consumers' credentials checked against each other) and
   * its certificates. Everything else was checked when the resource was read ({@link
   * Resource#parse}), and references to other resources are checked by the store.
   *
   * @param consumers every consumer the write leaves in place, the written one included when it is
   *     a consumer, so credentials are checked against each other
   * @throws IllegalArgumentException naming the resource and field at fault
   */
  public static void check(
      Resource resource, PluginRegistry registry, Collection<Resource> consumers) {
    PluginCompiler plugins = new PluginCompiler(registry, PluginState.empty(), Map.of());
    plugins.compileConsumers(consumers);
    Fields fields = fieldsOf(resource);
    switch (resource.type()) {
      case UPSTREAMS -> {}
      case SERVICES -> plugins.compile(resource.spec(ServiceSpec.class).plugins(), fields);
      case ROUTES -> plugins.compile(resource.spec(RouteSpec.class).plugins(), fields);
      case PLUGIN_CONFIGS ->
          plugins.compile(resource.spec(PluginConfigSpec.class).plugins(), fields);
      case GLOBAL_RULES -> plugins.compile(resource.spec(GlobalRuleSpec.class).plugins(), fields);
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

  private static Fields fieldsOf(Resource resource) {
    return new Fields(resource.owner());
  }

  /** Host conditions: exact names and {@code *suffix} wildcards, lower case. */
  private record Hosts(Set<String> exact, List<String> wildcardSuffixes) {

    /** {@code null} for no names: any host. */
    static Hosts of(List<String> names) {
      if (names.isEmpty()) {
        return null;
      }
      Set<String> exact = new HashSet<>();
      List<String> suffixes = new ArrayList<>();
      for (String host : names) {
        // APISIX's host_def: a leading '*' matches any prefix, so '*foo.com' takes 'barfoo.com'.
        if (host.startsWith("*")) {
          suffixes.add(host.substring(1));
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
   * The upstream a route or service sets itself: inline, else by {@code upstream_id}. {@code null}
   * when neither is set, so the route falls back to its service. An {@code upstream_id} naming no
   * upstream resolves to empty rather than falling back: a broken reference answers 503 instead of
   * quietly reaching another upstream.
   */
  private static Optional<Upstream> ownUpstream(
      Optional<UpstreamSpec> inline,
      Optional<String> upstreamId,
      String owner,
      Map<String, Upstream> upstreams) {
    if (inline.isPresent()) {
      return Optional.of(Upstream.compile(inline.get(), owner));
    }
    if (upstreamId.isPresent()) {
      return Optional.ofNullable(upstreams.get(upstreamId.get()));
    }
    return null;
  }

  /**
   * What routes inherit from a service: hosts, an upstream, plugins and {@code enable_websocket}.
   */
  private record Service(
      Hosts hosts, Optional<Upstream> upstream, Plugins plugins, Optional<Boolean> websocket) {

    static Service compile(
        Resource resource, Map<String, Upstream> upstreams, PluginCompiler pluginCompiler) {
      ServiceSpec spec = resource.spec(ServiceSpec.class);
      // Checked here so that an error names the service; each route compiles its merged copy.
      pluginCompiler.compile(spec.plugins(), fieldsOf(resource));
      return new Service(
          Hosts.of(spec.hosts()),
          ownUpstream(spec.upstream(), spec.upstreamId(), resource.owner(), upstreams),
          spec.plugins(),
          spec.enableWebsocket());
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
    final Vars<RequestVariable> vars; // null: no expressions
    final Optional<RouteMatch> match;

    private Route(
        String id,
        boolean enabled,
        int priority,
        List<String> uris,
        int methodBits,
        Hosts hosts,
        Cidr[] remoteAddrs,
        Vars<RequestVariable> vars,
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
        Map<String, Plugins> pluginConfigs,
        PluginCompiler pluginCompiler) {
      RouteSpec spec = resource.spec(RouteSpec.class);
      Fields fields = fieldsOf(resource);
      int methodBits = spec.methods().isEmpty() ? ANY_METHOD : 0;
      for (String method : spec.methods().orElse(Set.of())) {
        methodBits |= methodBit(method);
      }
      Service service = spec.serviceId().map(services::get).orElse(null);
      Hosts hosts = Hosts.of(spec.hosts());
      if (hosts == null && service != null) {
        hosts = service.hosts();
      }
      Optional<Upstream> upstream =
          ownUpstream(spec.upstream(), spec.upstreamId(), resource.owner(), upstreams);
      if (upstream == null) {
        upstream =
            service == null || service.upstream() == null ? Optional.empty() : service.upstream();
      }
      boolean websocket =
          spec.enableWebsocket().orElse(service != null && service.websocket().orElse(false));
      // APISIX's precedence: the route's own plugins over its plugin config's over its service's.
      // The merged copy is compiled for this route, so a limit on a service counts per route.
      Plugins fromConfig = spec.pluginConfigId().map(pluginConfigs::get).orElse(Plugins.NONE);
      Plugins fromService = service == null ? Plugins.NONE : service.plugins();
      // The route's own plugins are checked alone so that an error names their field exactly.
      PluginChain plugins = pluginCompiler.compile(spec.plugins(), fields);
      if (!fromConfig.isEmpty() || !fromService.isEmpty()) {
        plugins =
            pluginCompiler.compile(
                fromService.overriddenBy(fromConfig).overriddenBy(spec.plugins()), fields);
      }
      return new Route(
          resource.id(),
          spec.enabled(),
          spec.priority(),
          spec.uris(),
          methodBits,
          hosts,
          spec.remoteAddrs().isEmpty() ? null : spec.remoteAddrs().toArray(Cidr[]::new),
          spec.vars().orElse(null),
          upstream,
          spec.serviceId().orElse(null),
          plugins,
          websocket);
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
