package io.ballast.gateway.upstream;

import io.ballast.resource.Fields;
import io.ballast.resource.HealthCheckConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A compiled APISIX upstream: where to send requests and how. Holds the balancers of its upstream
 * resource, one per node priority, so all routes using the resource share their state (round-robin
 * position, connections in flight).
 *
 * <p>Upstream TLS ({@code scheme: https}) is not verified, as APISIX's default ({@code tls.verify}
 * false): upstreams are usually addressed by IP and carry internal or self-signed certificates.
 */
public final class Upstream {

  private final String name;
  private final String scheme;
  private final List<UpstreamNode> nodes;
  private final UpstreamTimeouts timeouts;
  private final PassHost passHost;
  private final String upstreamHost;
  private final int retries;
  private final Duration retryTimeout;
  private final KeepalivePool keepalivePool;
  private final HealthCheckConfig checks;

  /** Balancers by node priority, highest first. */
  private final List<Balancer> levels;

  private Upstream(
      String name,
      String scheme,
      List<UpstreamNode> nodes,
      UpstreamTimeouts timeouts,
      PassHost passHost,
      String upstreamHost,
      int retries,
      Duration retryTimeout,
      KeepalivePool keepalivePool,
      HealthCheckConfig checks,
      Function<List<UpstreamNode>, Balancer> balancerType) {
    this.name = name;
    this.scheme = scheme;
    this.nodes = List.copyOf(nodes);
    this.timeouts = timeouts;
    this.passHost = passHost;
    this.upstreamHost = upstreamHost;
    this.retries = retries;
    this.retryTimeout = retryTimeout;
    this.keepalivePool = keepalivePool;
    this.checks = checks;
    TreeMap<Integer, List<UpstreamNode>> byPriority = new TreeMap<>(Comparator.reverseOrder());
    for (UpstreamNode node : this.nodes) {
      byPriority.computeIfAbsent(node.priority(), p -> new ArrayList<>()).add(node);
    }
    this.levels = byPriority.values().stream().map(balancerType).toList();
  }

  /**
   * Compiles an upstream object. {@code fields} names the owning resource and {@code prefix} the
   * path to the object inside it ({@code ""} for an upstream resource, {@code "upstream."} for one
   * inline in a route or service), so errors point at the offending field.
   */
  public static Upstream parse(ObjectNode value, Fields fields, String prefix) {
    String scheme = "http";
    JsonNode schemeNode = value.get("scheme");
    if (Fields.present(schemeNode)) {
      scheme = fields.string(schemeNode, prefix + "scheme").toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        throw fields.invalid(prefix + "scheme", "'" + scheme + "' is not supported (http, https)");
      }
    }
    List<UpstreamNode> nodes = parseNodes(value.get("nodes"), fields, prefix + "nodes", scheme);
    UpstreamTimeouts timeouts = parseTimeouts(value.get("timeout"), fields, prefix + "timeout");

    PassHost passHost = PassHost.PASS;
    JsonNode passHostNode = value.get("pass_host");
    if (Fields.present(passHostNode)) {
      String text = fields.string(passHostNode, prefix + "pass_host");
      passHost =
          switch (text) {
            case "pass" -> PassHost.PASS;
            case "node" -> PassHost.NODE;
            case "rewrite" -> PassHost.REWRITE;
            default ->
                throw fields.invalid(
                    prefix + "pass_host", "'" + text + "' is not one of pass, node, rewrite");
          };
    }
    String upstreamHost = null;
    JsonNode upstreamHostNode = value.get("upstream_host");
    if (Fields.present(upstreamHostNode)) {
      upstreamHost = fields.string(upstreamHostNode, prefix + "upstream_host");
    }
    if (passHost == PassHost.REWRITE && (upstreamHost == null || upstreamHost.isBlank())) {
      throw fields.invalid(prefix + "upstream_host", "is required when pass_host is rewrite");
    }
    Function<List<UpstreamNode>, Balancer> balancerType = parseType(value, fields, prefix);

    // APISIX's default: every other node once.
    int retries = Math.max(0, nodes.size() - 1);
    JsonNode retriesNode = value.get("retries");
    if (Fields.present(retriesNode)) {
      retries = fields.integer(retriesNode, prefix + "retries", 0, Integer.MAX_VALUE);
    }
    Duration retryTimeout = Duration.ZERO;
    JsonNode retryTimeoutNode = value.get("retry_timeout");
    if (Fields.present(retryTimeoutNode)) {
      retryTimeout = nonNegativeSeconds(retryTimeoutNode, fields, prefix + "retry_timeout");
    }
    KeepalivePool keepalivePool =
        parseKeepalivePool(value.get("keepalive_pool"), fields, prefix + "keepalive_pool");
    JsonNode checksNode = value.get("checks");
    HealthCheckConfig checks =
        Fields.present(checksNode)
            ? HealthCheckConfig.parse(checksNode, fields, prefix + "checks.")
            : null;
    return new Upstream(
        fields.owner(),
        scheme,
        nodes,
        timeouts,
        passHost,
        upstreamHost,
        retries,
        retryTimeout,
        keepalivePool,
        checks,
        balancerType);
  }

  private static Function<List<UpstreamNode>, Balancer> parseType(
      ObjectNode value, Fields fields, String prefix) {
    String type = "roundrobin";
    JsonNode typeNode = value.get("type");
    if (Fields.present(typeNode)) {
      type = fields.string(typeNode, prefix + "type");
    }
    return switch (type) {
      case "roundrobin" -> SmoothWeightedRoundRobin::new;
      case "least_conn" -> LeastConnections::new;
      // APISIX's ewma prefers the node with the lowest recent latency; until latencies are
      // measured, fewest requests in flight is the nearest measure of the same load.
      case "ewma" -> LeastConnections::new;
      case "chash" -> {
        HashKey key = parseHashKey(value, fields, prefix);
        yield nodes -> new ConsistentHash(nodes, key);
      }
      default ->
          throw fields.invalid(
              prefix + "type", "'" + type + "' is not one of roundrobin, chash, least_conn, ewma");
    };
  }

  private static HashKey parseHashKey(ObjectNode value, Fields fields, String prefix) {
    String hashOnText = "vars";
    JsonNode hashOnNode = value.get("hash_on");
    if (Fields.present(hashOnNode)) {
      hashOnText = fields.string(hashOnNode, prefix + "hash_on");
    }
    HashKey.HashOn hashOn =
        switch (hashOnText) {
          case "vars" -> HashKey.HashOn.VARS;
          case "header" -> HashKey.HashOn.HEADER;
          case "cookie" -> HashKey.HashOn.COOKIE;
          case "consumer" -> HashKey.HashOn.CONSUMER;
          case "vars_combinations" ->
              throw fields.invalid(prefix + "hash_on", "'vars_combinations' is not supported");
          default ->
              throw fields.invalid(
                  prefix + "hash_on",
                  "'" + hashOnText + "' is not one of vars, header, cookie, consumer");
        };
    if (hashOn == HashKey.HashOn.CONSUMER) {
      return new HashKey(hashOn, null);
    }
    JsonNode keyNode = value.get("key");
    if (!Fields.present(keyNode)) {
      throw fields.invalid(prefix + "key", "is required when type is chash");
    }
    String key = fields.string(keyNode, prefix + "key");
    if (key.isBlank()) {
      throw fields.invalid(prefix + "key", "must not be blank");
    }
    if (hashOn == HashKey.HashOn.VARS && !HashKey.isKnownVariable(key)) {
      throw fields.invalid(
          prefix + "key",
          "'"
              + key
              + "' is not a supported variable ("
              + String.join(", ", HashKey.VARIABLES)
              + ")");
    }
    return new HashKey(hashOn, key);
  }

  private static KeepalivePool parseKeepalivePool(JsonNode node, Fields fields, String field) {
    if (!Fields.present(node)) {
      return null;
    }
    if (!node.isObject()) {
      throw fields.invalid(field, "must be an object with size, idle_timeout and requests");
    }
    KeepalivePool d = KeepalivePool.DEFAULT;
    JsonNode size = node.get("size");
    JsonNode idle = node.get("idle_timeout");
    JsonNode requests = node.get("requests");
    return new KeepalivePool(
        Fields.present(size)
            ? fields.integer(size, field + ".size", 1, Integer.MAX_VALUE)
            : d.size(),
        Fields.present(idle)
            ? nonNegativeSeconds(idle, fields, field + ".idle_timeout")
            : d.idleTimeout(),
        Fields.present(requests)
            ? fields.integer(requests, field + ".requests", 1, Integer.MAX_VALUE)
            : d.requests());
  }

  private static Duration nonNegativeSeconds(JsonNode node, Fields fields, String field) {
    if (!node.isNumber() || !(node.doubleValue() >= 0) || Double.isInfinite(node.doubleValue())) {
      throw fields.invalid(field, "must be a number of seconds, 0 or more");
    }
    return Duration.ofNanos(Math.round(node.doubleValue() * 1_000_000_000d));
  }

  private static List<UpstreamNode> parseNodes(
      JsonNode nodesNode, Fields fields, String field, String scheme) {
    int defaultPort = scheme.equals("https") ? 443 : 80;
    List<UpstreamNode> nodes = new ArrayList<>();
    if (!Fields.present(nodesNode)) {
      throw fields.invalid(field, "is required");
    }
    if (nodesNode.isObject()) {
      for (Map.Entry<String, JsonNode> entry : nodesNode.properties()) {
        String key = entry.getKey();
        String nodeField = field + ".'" + key + "'";
        int weight = fields.integer(entry.getValue(), nodeField, 0, Integer.MAX_VALUE);
        nodes.add(nodeFromAddress(key, weight, defaultPort, fields, nodeField));
      }
    } else if (nodesNode.isArray()) {
      for (int i = 0; i < nodesNode.size(); i++) {
        String nodeField = field + "[" + i + "]";
        JsonNode node = nodesNode.get(i);
        if (!node.isObject()) {
          throw fields.invalid(nodeField, "must be an object with host, port and weight");
        }
        JsonNode hostNode = node.get("host");
        if (!Fields.present(hostNode)) {
          throw fields.invalid(nodeField + ".host", "is required");
        }
        String host = fields.string(hostNode, nodeField + ".host");
        JsonNode portNode = node.get("port");
        int port =
            Fields.present(portNode)
                ? fields.integer(portNode, nodeField + ".port", 1, 65535)
                : defaultPort;
        JsonNode weightNode = node.get("weight");
        if (!Fields.present(weightNode)) {
          throw fields.invalid(nodeField + ".weight", "is required");
        }
        int weight = fields.integer(weightNode, nodeField + ".weight", 0, Integer.MAX_VALUE);
        JsonNode priorityNode = node.get("priority");
        int priority =
            Fields.present(priorityNode)
                ? fields.integer(
                    priorityNode, nodeField + ".priority", Integer.MIN_VALUE, Integer.MAX_VALUE)
                : 0;
        nodes.add(node(stripBrackets(host), port, weight, priority, fields, nodeField + ".host"));
      }
    } else {
      throw fields.invalid(field, "must be an object {\"host:port\": weight} or an array");
    }
    return nodes;
  }

  /** Parses {@code host}, {@code host:port}, {@code [v6]} or {@code [v6]:port}. */
  private static UpstreamNode nodeFromAddress(
      String address, int weight, int defaultPort, Fields fields, String field) {
    String host = address;
    int port = defaultPort;
    String portText = null;
    if (address.startsWith("[")) {
      int close = address.indexOf(']');
      if (close < 0) {
        throw fields.invalid(field, "unterminated IPv6 address");
      }
      host = address.substring(1, close);
      String rest = address.substring(close + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          throw fields.invalid(field, "expected ':' and a port after ']'");
        }
        portText = rest.substring(1);
      }
    } else {
      int colon = address.lastIndexOf(':');
      if (colon >= 0 && address.indexOf(':') == colon) {
        host = address.substring(0, colon);
        portText = address.substring(colon + 1);
      }
    }
    if (portText != null) {
      try {
        port = Integer.parseInt(portText);
      } catch (NumberFormatException e) {
        throw fields.invalid(field, "port '" + portText + "' is not a number");
      }
      if (port < 1 || port > 65535) {
        throw fields.invalid(field, "port must be between 1 and 65535, got " + port);
      }
    }
    return node(host, port, weight, 0, fields, field);
  }

  private static UpstreamNode node(
      String host, int port, int weight, int priority, Fields fields, String field) {
    if (host.isBlank()) {
      throw fields.invalid(field, "host must not be blank");
    }
    return new UpstreamNode(host, port, weight, priority);
  }

  private static String stripBrackets(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  private static UpstreamTimeouts parseTimeouts(JsonNode node, Fields fields, String field) {
    if (!Fields.present(node)) {
      return UpstreamTimeouts.DEFAULT;
    }
    if (!node.isObject()) {
      throw fields.invalid(field, "must be an object with connect, send and read");
    }
    UpstreamTimeouts d = UpstreamTimeouts.DEFAULT;
    return new UpstreamTimeouts(
        seconds(node.get("connect"), fields, field + ".connect", d.connect()),
        seconds(node.get("send"), fields, field + ".send", d.send()),
        seconds(node.get("read"), fields, field + ".read", d.read()));
  }

  private static Duration seconds(JsonNode node, Fields fields, String field, Duration dflt) {
    if (!Fields.present(node)) {
      return dflt;
    }
    double seconds = fields.positiveNumber(node, field);
    return Duration.ofNanos(Math.max(1_000_000L, Math.round(seconds * 1_000_000_000d)));
  }

  /** The next node for a request without context; empty when no node has a positive weight. */
  public Optional<UpstreamNode> pick() {
    return Optional.ofNullable(pick(BalanceContext.none(), Set.of(), node -> true));
  }

  /**
   * The node for the next attempt of a request, or {@code null} when no node has a positive weight.
   * Nodes of the highest priority come first; a lower priority serves only once every higher node
   * was {@code tried}. When no untried node is {@code usable} (health checks), any untried node is
   * taken, as APISIX does; when every node was tried, the round starts over.
   *
   * <p>The caller hands the node back to {@link #release} when the attempt ends.
   */
  public UpstreamNode pick(
      BalanceContext ctx, Set<UpstreamNode> tried, Predicate<UpstreamNode> usable) {
    UpstreamNode node = pickByPriority(ctx, n -> !tried.contains(n) && usable.test(n));
    if (node == null) {
      node = pickByPriority(ctx, n -> !tried.contains(n));
    }
    return node != null ? node : pickByPriority(ctx, n -> true);
  }

  private UpstreamNode pickByPriority(BalanceContext ctx, Predicate<UpstreamNode> eligible) {
    for (Balancer level : levels) {
      UpstreamNode node = level.pick(ctx, eligible);
      if (node != null) {
        return node;
      }
    }
    return null;
  }

  /** The attempt on {@code node}, from {@link #pick}, has ended (however it ended). */
  public void release(UpstreamNode node) {
    for (Balancer level : levels) {
      level.release(node);
    }
  }

  /** Balancers by priority, highest first; for tests. */
  public List<Balancer> balancers() {
    return levels;
  }

  /** How many more nodes a request may try after its first fails; 0 disables retries. */
  public int retries() {
    return retries;
  }

  /** The time budget for retrying a request; {@link Duration#ZERO} for none. */
  public Duration retryTimeout() {
    return retryTimeout;
  }

  /** The upstream's own {@code keepalive_pool}, or {@code null} for the proxy's defaults. */
  public KeepalivePool keepalivePool() {
    return keepalivePool;
  }

  /** How messages name this upstream, e.g. {@code upstream 'u1'} or {@code route 'r1'}. */
  /** APISIX's {@code checks}: active and passive health checks; {@code null} without. */
  public HealthCheckConfig checks() {
    return checks;
  }

  public String name() {
    return name;
  }

  /** {@code http} or {@code https}. */
  public String scheme() {
    return scheme;
  }

  public List<UpstreamNode> nodes() {
    return nodes;
  }

  public UpstreamTimeouts timeouts() {
    return timeouts;
  }

  public PassHost passHost() {
    return passHost;
  }

  /** The Host header for {@link PassHost#REWRITE}; {@code null} otherwise unless configured. */
  public String upstreamHost() {
    return upstreamHost;
  }

  @Override
  public String toString() {
    return name + " " + scheme + " " + nodes;
  }
}
