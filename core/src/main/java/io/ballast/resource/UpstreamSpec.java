package io.ballast.resource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * An APISIX upstream, as a resource or inline in a route or service: where requests go and how.
 *
 * @param hashOn what {@code chash} hashes; {@code null} for the other types
 * @param hashKey the variable, header or cookie {@code chash} hashes; {@code null} for {@code
 *     consumer} and the other types
 * @param nodes in the order written; weight 0 takes no traffic
 * @param upstreamHost the Host header for {@link PassHost#REWRITE}; {@code null} unless set
 * @param retries how many more nodes a request may try after its first fails
 * @param retryTimeout the time budget for those tries; zero for none
 * @param keepalivePool the upstream's own pool, or {@code null} for the proxy's
 * @param checks active and passive health checks, or {@code null} for none
 */
public record UpstreamSpec(
    BalancerType type,
    HashOn hashOn,
    String hashKey,
    String scheme,
    List<UpstreamNode> nodes,
    UpstreamTimeouts timeouts,
    PassHost passHost,
    String upstreamHost,
    int retries,
    Duration retryTimeout,
    KeepalivePool keepalivePool,
    HealthCheckConfig checks,
    String name)
    implements ResourceSpec {

  /** APISIX's balancer types. */
  public enum BalancerType {
    ROUNDROBIN,
    CHASH,
    LEAST_CONN,
    /** APISIX's lowest-latency balancer; Ballast balances it as least_conn. */
    EWMA
  }

  /** What a {@code chash} upstream hashes. */
  public enum HashOn {
    VARS,
    HEADER,
    COOKIE,
    CONSUMER
  }

  /** The nginx variables a chash {@code vars} key may name; each prefix needs a name after it. */
  public static final List<String> HASH_VARIABLES =
      List.of("remote_addr", "uri", "request_uri", "host", "arg_*", "http_*", "cookie_*");

  /** The fields APISIX's upstream schema allows, as a resource or inline. */
  static final Set<String> FIELDS =
      Set.of(
          "id",
          "name",
          "desc",
          "labels",
          "create_time",
          "update_time",
          "nodes",
          "retries",
          "retry_timeout",
          "timeout",
          "tls",
          "keepalive_pool",
          "type",
          "checks",
          "hash_on",
          "key",
          "scheme",
          "discovery_type",
          "discovery_args",
          "pass_host",
          "upstream_host",
          "service_name");

  /**
   * Upstream fields APISIX allows that Ballast does not honour: requests would go to other nodes,
   * or without the client certificate the upstream expects.
   */
  private static final Map<String, String> UNSUPPORTED =
      Map.of(
          "tls", "client certificates towards upstreams",
          "discovery_type", "service discovery; list the nodes",
          "discovery_args", "service discovery; list the nodes",
          "service_name", "service discovery; list the nodes");

  // Nested objects: APISIX lists their fields without refusing others; Ballast reads every field
  // they can hold, so a misspelt one would silently take its default. Refused as well.
  private static final Set<String> TIMEOUT_FIELDS = Set.of("connect", "send", "read");
  private static final Set<String> KEEPALIVE_POOL_FIELDS =
      Set.of("size", "idle_timeout", "requests");
  private static final Set<String> NODE_FIELDS =
      Set.of("host", "port", "weight", "priority", "metadata");

  public UpstreamSpec {
    Objects.requireNonNull(type, "type");
    nodes = List.copyOf(nodes);
    Objects.requireNonNull(timeouts, "timeouts");
    Objects.requireNonNull(passHost, "passHost");
    Objects.requireNonNull(retryTimeout, "retryTimeout");
  }

  /**
   * Whether {@code name} is one of {@link #HASH_VARIABLES}: a request variable other than {@code
   * request_method}, or {@code request_uri}.
   */
  static boolean isHashVariable(String name) {
    RequestVariable variable = RequestVariable.of(name);
    return name.equals("request_uri")
        || (variable != null && variable.source() != RequestVariable.Source.METHOD);
  }

  /**
   * Reads an upstream object. {@code prefix} is its path inside the owning resource: {@code ""} for
   * an upstream resource, {@code "upstream."} inline, so that errors name the field.
   */
  static UpstreamSpec parse(JsonNode value, Fields fields, String prefix) {
    fields.onlyKnown(value, prefix, FIELDS);
    fields.unsupported(value, prefix, UNSUPPORTED);
    String scheme = "http";
    JsonNode schemeNode = value.get("scheme");
    if (schemeNode != null) {
      if (!(schemeNode.isString() && List.of("http", "https").contains(schemeNode.stringValue()))) {
        throw fields.invalid(prefix + "scheme", "must be http or https");
      }
      scheme = schemeNode.stringValue();
    }
    List<UpstreamNode> nodes = nodes(value.get("nodes"), fields, prefix + "nodes", scheme);
    BalancerType type = type(value.get("type"), fields, prefix + "type");
    HashOn hashOn = null;
    String hashKey = null;
    if (type == BalancerType.CHASH) {
      hashOn = hashOn(value.get("hash_on"), fields, prefix + "hash_on");
      if (hashOn != HashOn.CONSUMER) {
        hashKey = hashKey(value.get("key"), hashOn, fields, prefix + "key");
      }
    }
    PassHost passHost = PassHost.PASS;
    JsonNode passHostNode = value.get("pass_host");
    if (passHostNode != null) {
      passHost =
          switch (passHostNode.isString() ? passHostNode.stringValue() : "") {
            case "pass" -> PassHost.PASS;
            case "node" -> PassHost.NODE;
            case "rewrite" -> PassHost.REWRITE;
            default -> throw fields.invalid(prefix + "pass_host", "must be pass, node or rewrite");
          };
    }
    String upstreamHost =
        fields.optionalString(value.get("upstream_host"), prefix + "upstream_host");
    if (passHost == PassHost.REWRITE && (upstreamHost == null || upstreamHost.isBlank())) {
      throw fields.invalid(prefix + "upstream_host", "is required when pass_host is rewrite");
    }
    // APISIX's default: every other node once.
    int retries = Math.max(0, nodes.size() - 1);
    JsonNode retriesNode = value.get("retries");
    if (retriesNode != null) {
      if (!retriesNode.isIntegralNumber()
          || !retriesNode.canConvertToInt()
          || retriesNode.intValue() < 0) {
        throw fields.invalid(prefix + "retries", "must be an integer >= 0");
      }
      retries = retriesNode.intValue();
    }
    String name = null;
    if (prefix.isEmpty()) {
      name = fields.name(value);
    }
    JsonNode checks = value.get("checks");
    return new UpstreamSpec(
        type,
        hashOn,
        hashKey,
        scheme,
        nodes,
        timeouts(value.get("timeout"), fields, prefix + "timeout"),
        passHost,
        upstreamHost,
        retries,
        fields.nonNegativeSeconds(
            value.get("retry_timeout"), prefix + "retry_timeout", Duration.ZERO),
        keepalivePool(value.get("keepalive_pool"), fields, prefix + "keepalive_pool"),
        Fields.present(checks) ? HealthCheckConfig.parse(checks, fields, prefix + "checks.") : null,
        name);
  }

  private static BalancerType type(JsonNode node, Fields fields, String field) {
    if (node == null) {
      return BalancerType.ROUNDROBIN;
    }
    return switch (node.isString() ? node.stringValue() : "") {
      case "roundrobin" -> BalancerType.ROUNDROBIN;
      case "chash" -> BalancerType.CHASH;
      case "least_conn" -> BalancerType.LEAST_CONN;
      case "ewma" -> BalancerType.EWMA;
      default -> throw fields.invalid(field, "must be one of chash, ewma, least_conn, roundrobin");
    };
  }

  private static HashOn hashOn(JsonNode node, Fields fields, String field) {
    String text = Fields.present(node) ? fields.string(node, field) : "vars";
    return switch (text) {
      case "vars" -> HashOn.VARS;
      case "header" -> HashOn.HEADER;
      case "cookie" -> HashOn.COOKIE;
      case "consumer" -> HashOn.CONSUMER;
      case "vars_combinations" ->
          throw fields.invalid(field, "'vars_combinations' is not supported");
      default ->
          throw fields.invalid(
              field, "'" + text + "' is not one of vars, header, cookie, consumer");
    };
  }

  private static String hashKey(JsonNode node, HashOn hashOn, Fields fields, String field) {
    if (!Fields.present(node)) {
      throw fields.invalid(field, "is required when type is chash");
    }
    String key = fields.string(node, field);
    if (key.isBlank()) {
      throw fields.invalid(field, "must not be blank");
    }
    if (hashOn == HashOn.VARS && !isHashVariable(key)) {
      throw fields.invalid(
          field,
          "'" + key + "' is not a supported variable (" + String.join(", ", HASH_VARIABLES) + ")");
    }
    return key;
  }

  private static List<UpstreamNode> nodes(
      JsonNode nodes, Fields fields, String field, String scheme) {
    if (nodes == null) {
      throw fields.invalid(field, "is required");
    }
    int defaultPort = scheme.equals("https") ? 443 : 80;
    List<UpstreamNode> result = new ArrayList<>();
    if (nodes.isObject()) {
      for (Map.Entry<String, JsonNode> entry : nodes.properties()) {
        String nodeField = field + ".'" + entry.getKey() + "'";
        int weight = weight(entry.getValue(), fields, nodeField);
        result.add(fromAddress(entry.getKey(), weight, defaultPort, fields, nodeField));
      }
    } else if (nodes.isArray()) {
      for (int i = 0; i < nodes.size(); i++) {
        String nodeField = field + "[" + i + "]";
        JsonNode node = nodes.get(i);
        if (!node.isObject()) {
          throw fields.invalid(nodeField, "must be an object with host, port and weight");
        }
        fields.onlyKnown(node, nodeField + ".", NODE_FIELDS);
        JsonNode host = node.get("host");
        if (host == null || !host.isString() || host.stringValue().isBlank()) {
          throw fields.invalid(nodeField + ".host", "must be a non-empty string");
        }
        JsonNode port = node.get("port");
        if (port != null
            && !(port.isIntegralNumber() && port.asLong() >= 1 && port.asLong() <= 65535)) {
          throw fields.invalid(nodeField + ".port", "must be an integer from 1 to 65535");
        }
        int weight = weight(node.get("weight"), fields, nodeField + ".weight");
        int priority =
            fields.integer(
                node.get("priority"),
                nodeField + ".priority",
                Integer.MIN_VALUE,
                Integer.MAX_VALUE,
                0);
        result.add(
            new UpstreamNode(
                stripBrackets(host.stringValue()),
                port == null ? defaultPort : port.intValue(),
                weight,
                priority));
      }
    } else {
      throw fields.invalid(
          field, "must be an object {\"host:port\": weight} or an array of {host, port, weight}");
    }
    if (result.isEmpty()) {
      throw fields.invalid(field, "must not be empty");
    }
    return result;
  }

  private static int weight(JsonNode weight, Fields fields, String field) {
    if (weight == null
        || !weight.isIntegralNumber()
        || weight.asLong() < 0
        || weight.asLong() > Integer.MAX_VALUE) {
      throw fields.invalid(field, "weight must be an integer from 0 to " + Integer.MAX_VALUE);
    }
    return weight.intValue();
  }

  /** {@code host}, {@code host:port}, {@code [v6]}, {@code [v6]:port}, or a bare IPv6 address. */
  private static UpstreamNode fromAddress(
      String address, int weight, int defaultPort, Fields fields, String field) {
    String host = address;
    String portText = null;
    if (address.startsWith("[")) {
      int close = address.indexOf(']');
      if (close < 0) {
        throw fields.invalid(field, "IPv6 address has no closing ']'");
      }
      host = address.substring(1, close);
      String rest = address.substring(close + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          throw fields.invalid(field, "must be host or host:port");
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
    if (host.isBlank()) {
      throw fields.invalid(field, "host is empty");
    }
    int port = defaultPort;
    if (portText != null) {
      try {
        port = portText.length() > 5 ? -1 : Integer.parseInt(portText);
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 1 || port > 65535) {
        throw fields.invalid(field, "port must be an integer from 1 to 65535");
      }
    }
    return new UpstreamNode(host, port, weight, 0);
  }

  private static String stripBrackets(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  /** APISIX requires all three of connect, send and read when timeout is given. */
  private static UpstreamTimeouts timeouts(JsonNode node, Fields fields, String field) {
    if (node == null) {
      return UpstreamTimeouts.DEFAULT;
    }
    if (!node.isObject()) {
      throw fields.invalid(field, "must be an object with connect, send and read");
    }
    fields.onlyKnown(node, field + ".", TIMEOUT_FIELDS);
    Duration[] values = new Duration[3];
    String[] names = {"connect", "send", "read"};
    for (int i = 0; i < names.length; i++) {
      JsonNode seconds = node.get(names[i]);
      if (seconds == null) {
        throw fields.invalid(field + "." + names[i], "must be a positive number of seconds");
      }
      values[i] = fields.positiveSeconds(seconds, field + "." + names[i], null);
    }
    return new UpstreamTimeouts(values[0], values[1], values[2]);
  }

  private static KeepalivePool keepalivePool(JsonNode node, Fields fields, String field) {
    if (!Fields.present(node)) {
      return null;
    }
    if (!node.isObject()) {
      throw fields.invalid(field, "must be an object with size, idle_timeout and requests");
    }
    fields.onlyKnown(node, field + ".", KEEPALIVE_POOL_FIELDS);
    KeepalivePool d = KeepalivePool.DEFAULT;
    return new KeepalivePool(
        fields.integer(node.get("size"), field + ".size", 1, Integer.MAX_VALUE, d.size()),
        fields.nonNegativeSeconds(
            node.get("idle_timeout"), field + ".idle_timeout", d.idleTimeout()),
        fields.integer(
            node.get("requests"), field + ".requests", 1, Integer.MAX_VALUE, d.requests()));
  }
}
