package io.ballast.service.proxy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A compiled APISIX upstream: where to send requests and how. Holds the one balancer of its
 * upstream resource, so all routes using the resource share the round-robin state.
 */
public final class Upstream {

  private final String name;
  private final String scheme;
  private final List<UpstreamNode> nodes;
  private final UpstreamTimeouts timeouts;
  private final PassHost passHost;
  private final String upstreamHost;
  private final SmoothWeightedRoundRobin balancer;

  private Upstream(
      String name,
      String scheme,
      List<UpstreamNode> nodes,
      UpstreamTimeouts timeouts,
      PassHost passHost,
      String upstreamHost) {
    this.name = name;
    this.scheme = scheme;
    this.nodes = List.copyOf(nodes);
    this.timeouts = timeouts;
    this.passHost = passHost;
    this.upstreamHost = upstreamHost;
    this.balancer = new SmoothWeightedRoundRobin(this.nodes);
  }

  /**
   * Compiles an upstream object. {@code fields} names the owning resource and {@code prefix} the
   * path to the object inside it ({@code ""} for an upstream resource, {@code "upstream."} for one
   * inline in a route or service), so errors point at the offending field.
   */
  static Upstream parse(ObjectNode value, Fields fields, String prefix) {
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
    // Balancer types other than roundrobin (chash, ewma, least_conn) are served round robin for
    // now: still balanced, and a valid APISIX configuration keeps working.
    return new Upstream(fields.owner(), scheme, nodes, timeouts, passHost, upstreamHost);
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
        nodes.add(node(stripBrackets(host), port, weight, fields, nodeField + ".host"));
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
    return node(host, port, weight, fields, field);
  }

  private static UpstreamNode node(String host, int port, int weight, Fields fields, String field) {
    if (host.isBlank()) {
      throw fields.invalid(field, "host must not be blank");
    }
    return new UpstreamNode(host, port, weight);
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

  /** The next node by smooth weighted round robin; empty when no node has a positive weight. */
  public Optional<UpstreamNode> pick() {
    return Optional.ofNullable(balancer.next());
  }

  /** How messages name this upstream, e.g. {@code upstream 'u1'} or {@code route 'r1'}. */
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
