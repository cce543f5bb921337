package io.ballast.resource;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Checks a resource against the APISIX shapes the gateway uses today and returns it with its id
 * set. Only the fields the gateway reads are checked; every other field is kept as written, so
 * APISIX users can bring resources that carry more than Ballast understands.
 */
public final class ResourceValidator {

  /** APISIX route fields the data plane does not evaluate: Lua code it cannot run. */
  private static final List<String> UNSUPPORTED_ROUTE_MATCHERS = List.of("filter_func", "script");

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
  private static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9_-]+");
  // APISIX's host_def: an optional leading wildcard, then host characters (IPv6 brackets allowed).
  private static final Pattern HOST = Pattern.compile("\\*?[0-9a-zA-Z._\\[\\]:-]+");
  private static final Set<String> METHODS =
      Set.of(
          "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE", "PURGE");
  private static final Set<String> BALANCER_TYPES =
      Set.of("roundrobin", "chash", "ewma", "least_conn");
  private static final Set<String> SCHEMES = Set.of("http", "https");
  private static final Set<String> PASS_HOST = Set.of("pass", "node", "rewrite");
  private static final int MAX_NAME = 256;
  private static final int MAX_URI = 4096;

  private ResourceValidator() {}

  /**
   * Validates {@code value} as a resource of {@code type} named {@code id}.
   *
   * @return a copy of {@code value} whose {@code id} (for consumers {@code username}) is {@code id}
   * @throws InvalidResourceException naming the type, id and field at fault
   */
  public static Resource validate(ResourceType type, String id, JsonNode value) {
    Check check = new Check(type, id == null ? "" : id);
    if (id == null) {
      throw check.fail(idField(type), "is missing");
    }
    Pattern idPattern = type == ResourceType.CONSUMERS ? USERNAME : ID;
    if (!idPattern.matcher(id).matches()) {
      throw check.fail(
          idField(type),
          type == ResourceType.CONSUMERS
              ? "must be letters, digits, '_' or '-'"
              : "must be 1 to 64 letters, digits, '_', '.' or '-'");
    }
    if (value == null || !value.isObject()) {
      throw check.fail(null, "must be a JSON object");
    }
    ObjectNode copy = ((ObjectNode) value).deepCopy();
    String idField = idField(type);
    JsonNode given = copy.get(idField);
    if (given != null && !given.isNull()) {
      boolean same = (given.isString() || given.isIntegralNumber()) && given.asString().equals(id);
      if (!same) {
        throw check.fail(idField, "'" + given.asString() + "' differs from the resource id");
      }
    }
    copy.put(idField, id);

    switch (type) {
      case ROUTES -> checkRoute(check, copy);
      case UPSTREAMS -> checkUpstream(check, "", copy);
      case SERVICES -> checkService(check, copy);
      case CONSUMERS -> checkConsumer(check, copy);
      case PLUGIN_CONFIGS, GLOBAL_RULES -> checkPluginHolder(check, copy);
      case PLUGIN_METADATA -> {}
      case SSLS -> checkSsl(check, copy);
    }
    return new Resource(type, id, copy);
  }

  /** The field that carries a resource's id: {@code username} for consumers, else {@code id}. */
  public static String idField(ResourceType type) {
    return type == ResourceType.CONSUMERS ? "username" : "id";
  }

  private static void checkRoute(Check check, ObjectNode route) {
    JsonNode uri = route.get("uri");
    JsonNode uris = route.get("uris");
    if (uri != null && uris != null) {
      throw check.fail("uris", "give either uri or uris, not both");
    }
    if (uri == null && uris == null) {
      throw check.fail("uri", "is required (or uris)");
    }
    if (uri != null) {
      checkUri(check, "uri", uri);
    } else {
      checkNonEmptyArray(check, "uris", uris);
      for (int i = 0; i < uris.size(); i++) {
        checkUri(check, "uris[" + i + "]", uris.get(i));
      }
    }

    JsonNode methods = route.get("methods");
    if (methods != null) {
      checkArray(check, "methods", methods);
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < methods.size(); i++) {
        JsonNode method = methods.get(i);
        String field = "methods[" + i + "]";
        if (!method.isString() || !METHODS.contains(method.stringValue())) {
          throw check.fail(field, "must be one of " + String.join(", ", sorted(METHODS)));
        }
        if (!seen.add(method.stringValue())) {
          throw check.fail(field, "'" + method.stringValue() + "' is listed twice");
        }
      }
    }

    checkHosts(check, route);
    checkRemoteAddrs(check, route);
    JsonNode vars = presentOrNull(route.get("vars"));
    if (vars != null) {
      checkVars(check, vars);
    }
    JsonNode priority = route.get("priority");
    if (priority != null && !(priority.isIntegralNumber() && priority.canConvertToInt())) {
      throw check.fail("priority", "must be an integer that fits in 32 bits");
    }
    JsonNode status = route.get("status");
    if (status != null
        && !(status.isIntegralNumber() && (status.asLong() == 0 || status.asLong() == 1))) {
      throw check.fail("status", "must be 0 or 1");
    }
    checkOptionalBoolean(check, "enable_websocket", route.get("enable_websocket"));
    checkName(check, route);
    checkPlugins(check, route.get("plugins"));
    checkReference(check, "plugin_config_id", route.get("plugin_config_id"));
    for (String field : UNSUPPORTED_ROUTE_MATCHERS) {
      if (route.get(field) != null) {
        throw check.fail(
            field,
            "is Lua code, which Ballast cannot run; the route would match more than it says, so"
                + " it is refused");
      }
    }
    checkReference(check, "upstream_id", route.get("upstream_id"));
    checkReference(check, "service_id", route.get("service_id"));
    JsonNode upstream = route.get("upstream");
    if (upstream != null) {
      checkInlineUpstream(check, upstream);
    }
    if (upstream == null
        && route.get("upstream_id") == null
        && route.get("service_id") == null
        && route.get("plugins") == null
        && route.get("plugin_config_id") == null) {
      throw check.fail(
          "upstream",
          "a route needs upstream, upstream_id, service_id, plugins or plugin_config_id");
    }
  }

  private static void checkService(Check check, ObjectNode service) {
    JsonNode upstream = service.get("upstream");
    if (upstream != null) {
      checkInlineUpstream(check, upstream);
    }
    checkReference(check, "upstream_id", service.get("upstream_id"));
    checkPlugins(check, service.get("plugins"));
    JsonNode hosts = service.get("hosts");
    if (hosts != null) {
      checkHostArray(check, hosts);
    }
    checkOptionalBoolean(check, "enable_websocket", service.get("enable_websocket"));
    checkName(check, service);
  }

  private static void checkConsumer(Check check, ObjectNode consumer) {
    checkPlugins(check, consumer.get("plugins"));
    JsonNode desc = consumer.get("desc");
    if (desc != null && !desc.isString()) {
      throw check.fail("desc", "must be a string");
    }
  }

  private static void checkInlineUpstream(Check check, JsonNode upstream) {
    if (!upstream.isObject()) {
      throw check.fail("upstream", "must be an object");
    }
    checkUpstream(check, "upstream.", upstream);
  }

  /** {@code path} is the prefix of field names: empty for an upstream, "upstream." inline. */
  private static void checkUpstream(Check check, String path, JsonNode upstream) {
    JsonNode nodes = upstream.get("nodes");
    String nodesField = path + "nodes";
    if (nodes == null) {
      throw check.fail(nodesField, "is required");
    }
    if (nodes.isObject()) {
      if (nodes.isEmpty()) {
        throw check.fail(nodesField, "must not be empty");
      }
      for (Map.Entry<String, JsonNode> node : nodes.properties()) {
        String field = nodesField + "." + node.getKey();
        checkHostPort(check, field, node.getKey());
        checkWeight(check, field, node.getValue());
      }
    } else if (nodes.isArray()) {
      if (nodes.isEmpty()) {
        throw check.fail(nodesField, "must not be empty");
      }
      for (int i = 0; i < nodes.size(); i++) {
        JsonNode node = nodes.get(i);
        String field = nodesField + "[" + i + "]";
        if (!node.isObject()) {
          throw check.fail(field, "must be an object with host, port and weight");
        }
        JsonNode host = node.get("host");
        if (host == null || !host.isString() || host.stringValue().isEmpty()) {
          throw check.fail(field + ".host", "must be a non-empty string");
        }
        JsonNode port = node.get("port");
        if (port != null && !validPort(port)) {
          throw check.fail(field + ".port", "must be an integer from 1 to 65535");
        }
        checkWeight(check, field + ".weight", node.get("weight"));
      }
    } else {
      throw check.fail(
          nodesField,
          "must be an object {\"host:port\": weight} or an array of {host, port, weight}");
    }

    JsonNode type = upstream.get("type");
    if (type != null && !(type.isString() && BALANCER_TYPES.contains(type.stringValue()))) {
      throw check.fail(
          path + "type", "must be one of " + String.join(", ", sorted(BALANCER_TYPES)));
    }
    JsonNode scheme = upstream.get("scheme");
    if (scheme != null && !(scheme.isString() && SCHEMES.contains(scheme.stringValue()))) {
      throw check.fail(path + "scheme", "must be http or https");
    }
    JsonNode timeout = upstream.get("timeout");
    if (timeout != null) {
      if (!timeout.isObject()) {
        throw check.fail(path + "timeout", "must be an object with connect, send and read");
      }
      for (String name : new String[] {"connect", "send", "read"}) {
        JsonNode seconds = timeout.get(name);
        if (seconds == null || !seconds.isNumber() || seconds.asDouble() <= 0) {
          throw check.fail(path + "timeout." + name, "must be a positive number of seconds");
        }
      }
    }
    checkOptionalInteger(check, path + "retries", upstream.get("retries"), 0);
    JsonNode passHost = upstream.get("pass_host");
    if (passHost != null) {
      if (!(passHost.isString() && PASS_HOST.contains(passHost.stringValue()))) {
        throw check.fail(path + "pass_host", "must be pass, node or rewrite");
      }
      JsonNode upstreamHost = upstream.get("upstream_host");
      if (passHost.stringValue().equals("rewrite")
          && (upstreamHost == null
              || !upstreamHost.isString()
              || upstreamHost.stringValue().isEmpty())) {
        throw check.fail(path + "upstream_host", "is required when pass_host is rewrite");
      }
    }
    if (path.isEmpty()) {
      checkName(check, upstream);
    }
  }

  private static void checkHostPort(Check check, String field, String hostPort) {
    String host = hostPort;
    String port = null;
    if (hostPort.startsWith("[")) {
      int close = hostPort.indexOf(']');
      if (close < 0) {
        throw check.fail(field, "IPv6 address has no closing ']'");
      }
      host = hostPort.substring(0, close + 1);
      String rest = hostPort.substring(close + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          throw check.fail(field, "must be host or host:port");
        }
        port = rest.substring(1);
      }
    } else {
      int colon = hostPort.lastIndexOf(':');
      if (colon >= 0) {
        host = hostPort.substring(0, colon);
        port = hostPort.substring(colon + 1);
      }
    }
    if (host.isEmpty() || host.equals("[]")) {
      throw check.fail(field, "host is empty");
    }
    if (port != null) {
      int number;
      try {
        number = port.length() > 5 ? -1 : Integer.parseInt(port);
      } catch (NumberFormatException e) {
        number = -1;
      }
      if (number < 1 || number > 65535) {
        throw check.fail(field, "port must be an integer from 1 to 65535");
      }
    }
  }

  private static boolean validPort(JsonNode port) {
    return port.isIntegralNumber() && port.asLong() >= 1 && port.asLong() <= 65535;
  }

  private static void checkWeight(Check check, String field, JsonNode weight) {
    if (weight == null
        || !weight.isIntegralNumber()
        || weight.asLong() < 0
        || weight.asLong() > Integer.MAX_VALUE) {
      throw check.fail(field, "weight must be an integer from 0 to " + Integer.MAX_VALUE);
    }
  }

  private static void checkUri(Check check, String field, JsonNode uri) {
    if (!uri.isString() || !uri.stringValue().startsWith("/")) {
      throw check.fail(field, "must be a path starting with '/'");
    }
    if (uri.stringValue().length() > MAX_URI) {
      throw check.fail(field, "is longer than " + MAX_URI + " characters");
    }
  }

  private static void checkHosts(Check check, ObjectNode route) {
    JsonNode host = route.get("host");
    JsonNode hosts = route.get("hosts");
    if (host != null && hosts != null) {
      throw check.fail("hosts", "give either host or hosts, not both");
    }
    if (host != null) {
      checkHost(check, "host", host);
    }
    if (hosts != null) {
      checkHostArray(check, hosts);
    }
  }

  private static void checkHostArray(Check check, JsonNode hosts) {
    checkNonEmptyArray(check, "hosts", hosts);
    for (int i = 0; i < hosts.size(); i++) {
      checkHost(check, "hosts[" + i + "]", hosts.get(i));
    }
  }

  private static void checkHost(Check check, String field, JsonNode host) {
    if (!host.isString() || !HOST.matcher(host.stringValue()).matches()) {
      throw check.fail(field, "must be a host name, optionally starting with '*'");
    }
  }

  /**
   * {@code remote_addr} or {@code remote_addrs}: IPv4/IPv6 addresses and CIDRs, parsed by the same
   * {@link Cidr} the data plane's route table matches with.
   */
  private static void checkRemoteAddrs(Check check, ObjectNode route) {
    JsonNode one = presentOrNull(route.get("remote_addr"));
    JsonNode many = presentOrNull(route.get("remote_addrs"));
    if (one != null && many != null) {
      throw check.fail("remote_addrs", "give either remote_addr or remote_addrs, not both");
    }
    if (one != null) {
      checkCidr(check, "remote_addr", one);
    }
    if (many != null) {
      checkNonEmptyArray(check, "remote_addrs", many);
      for (int i = 0; i < many.size(); i++) {
        checkCidr(check, "remote_addrs[" + i + "]", many.get(i));
      }
    }
  }

  /** A JSON null counts as absent, as the data plane reads it. */
  private static JsonNode presentOrNull(JsonNode node) {
    return node == null || node.isNull() ? null : node;
  }

  private static void checkCidr(Check check, String field, JsonNode value) {
    if (!value.isString()) {
      throw check.fail(field, "must be an IPv4 or IPv6 address or CIDR string");
    }
    try {
      Cidr.parse(value.stringValue());
    } catch (IllegalArgumentException e) {
      throw check.fail(field, e.getMessage());
    }
  }

  /**
   * {@code vars} is only checked for its outer shape here: its expressions are checked where they
   * are compiled (io.ballast.gateway.http.RouteVars), which both the Admin API and the data plane
   * run.
   */
  private static void checkVars(Check check, JsonNode vars) {
    if (!vars.isArray()) {
      throw check.fail("vars", "must be an array of [var, operator, value] expressions");
    }
  }

  private static void checkReference(Check check, String field, JsonNode reference) {
    if (reference == null) {
      return;
    }
    if (!(reference.isString() || reference.isIntegralNumber())
        || !ID.matcher(reference.asString()).matches()) {
      throw check.fail(field, "must be a resource id (a string or an integer)");
    }
  }

  private static void checkName(Check check, JsonNode resource) {
    JsonNode name = resource.get("name");
    if (name != null && !(name.isString() && name.stringValue().length() <= MAX_NAME)) {
      throw check.fail("name", "must be a string of at most " + MAX_NAME + " characters");
    }
  }

  /**
   * {@code plugins}: an object of plugin name to configuration object. Names and configurations are
   * checked where plugins are compiled (io.ballast.service.plugin), which both the Admin API and
   * the data plane run.
   */
  private static void checkPlugins(Check check, JsonNode plugins) {
    checkOptionalObject(check, "plugins", plugins);
    if (plugins == null) {
      return;
    }
    for (Map.Entry<String, JsonNode> plugin : plugins.properties()) {
      if (!plugin.getValue().isObject()) {
        throw check.fail("plugins." + plugin.getKey(), "must be an object");
      }
    }
  }

  /** A global rule or plugin config: a set of plugins and nothing that routes. */
  private static void checkPluginHolder(Check check, ObjectNode holder) {
    JsonNode plugins = holder.get("plugins");
    if (plugins == null) {
      throw check.fail("plugins", "is required");
    }
    checkPlugins(check, plugins);
    JsonNode desc = holder.get("desc");
    if (desc != null && !desc.isString()) {
      throw check.fail("desc", "must be a string");
    }
  }

  /**
   * An APISIX ssl: a PEM certificate chain and key and the SNIs it serves. Whether the PEM parses
   * is checked where the TLS context is built; messages never echo the key.
   */
  private static void checkSsl(Check check, ObjectNode ssl) {
    for (String field : new String[] {"cert", "key"}) {
      JsonNode pem = ssl.get(field);
      if (pem == null || !pem.isString() || pem.stringValue().isBlank()) {
        throw check.fail(field, "is required: a PEM string");
      }
    }
    JsonNode sni = ssl.get("sni");
    JsonNode snis = ssl.get("snis");
    if (sni != null && snis != null) {
      throw check.fail("snis", "give either sni or snis, not both");
    }
    if (sni == null && snis == null) {
      throw check.fail("snis", "is required (or sni)");
    }
    if (sni != null) {
      checkHost(check, "sni", sni);
    } else {
      checkNonEmptyArray(check, "snis", snis);
      for (int i = 0; i < snis.size(); i++) {
        checkHost(check, "snis[" + i + "]", snis.get(i));
      }
    }
    JsonNode type = ssl.get("type");
    if (type != null && !(type.isString() && type.stringValue().equals("server"))) {
      throw check.fail("type", "only 'server' certificates are supported");
    }
    JsonNode status = ssl.get("status");
    if (status != null
        && !(status.isIntegralNumber() && (status.asLong() == 0 || status.asLong() == 1))) {
      throw check.fail("status", "must be 0 or 1");
    }
  }

  private static void checkOptionalObject(Check check, String field, JsonNode value) {
    if (value != null && !value.isObject()) {
      throw check.fail(field, "must be an object");
    }
  }

  private static void checkOptionalBoolean(Check check, String field, JsonNode value) {
    if (value != null && !value.isBoolean()) {
      throw check.fail(field, "must be true or false");
    }
  }

  private static void checkOptionalInteger(Check check, String field, JsonNode value, long min) {
    if (value == null) {
      return;
    }
    if (!value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < min) {
      throw check.fail(field, min == 0 ? "must be an integer >= 0" : "must be an integer");
    }
  }

  private static void checkArray(Check check, String field, JsonNode value) {
    if (!value.isArray()) {
      throw check.fail(field, "must be an array");
    }
  }

  private static void checkNonEmptyArray(Check check, String field, JsonNode value) {
    checkArray(check, field, value);
    if (value.isEmpty()) {
      throw check.fail(field, "must not be empty");
    }
  }

  private static String[] sorted(Set<String> values) {
    return values.stream().sorted().toArray(String[]::new);
  }

  /** The resource being checked, so that every failure names it. */
  private record Check(ResourceType type, String id) {
    InvalidResourceException fail(String field, String problem) {
      return new InvalidResourceException(type, id, field, problem);
    }
  }
}
