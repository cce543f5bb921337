package io.ballast.resource;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * An APISIX route: what requests it matches and where they go.
 *
 * @param uris exact paths, {@code /prefix/*} or with {@code :name} segments
 * @param methods the methods it matches; empty for any method ({@code methods: []} matches none)
 * @param hosts lower case, {@code *.} wildcards allowed; empty for any host (or the service's)
 * @param remoteAddrs client addresses and CIDRs; empty for any client
 * @param vars expressions over request variables that must all hold; empty when none
 * @param enabled APISIX's {@code status}: 0 disables the route
 * @param enableWebsocket empty to take the service's
 */
public record RouteSpec(
    List<String> uris,
    Optional<Set<String>> methods,
    List<String> hosts,
    List<Cidr> remoteAddrs,
    Optional<Vars<RequestVariable>> vars,
    int priority,
    boolean enabled,
    Optional<UpstreamSpec> upstream,
    Optional<String> upstreamId,
    Optional<String> serviceId,
    Optional<String> pluginConfigId,
    Plugins plugins,
    Optional<Boolean> enableWebsocket,
    String name)
    implements ResourceSpec {

  /** The methods a route may name, as APISIX's schema lists them. */
  public static final Set<String> METHODS =
      Set.of(
          "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE", "PURGE");

  /**
   * The fields APISIX's route schema allows ({@code apisix/schema_def.lua}); others are refused.
   */
  static final Set<String> FIELDS =
      Set.of(
          "id",
          "name",
          "desc",
          "labels",
          "create_time",
          "update_time",
          "uri",
          "uris",
          "priority",
          "methods",
          "host",
          "hosts",
          "remote_addr",
          "remote_addrs",
          "timeout",
          "vars",
          "filter_func",
          "script",
          "script_id",
          "plugins",
          "plugin_config_id",
          "upstream",
          "service_id",
          "upstream_id",
          "enable_websocket",
          "status");

  /** Route fields APISIX allows that Ballast does not honour. */
  private static final Map<String, String> UNSUPPORTED =
      Map.of("timeout", "a route's own timeout; set timeout on its upstream");

  /** APISIX route fields the data plane does not evaluate: Lua code it cannot run. */
  private static final List<String> LUA_MATCHERS = List.of("filter_func", "script");

  private static final int MAX_URI = 4096;

  public RouteSpec {
    uris = List.copyOf(uris);
    methods = methods.map(Set::copyOf);
    hosts = List.copyOf(hosts);
    remoteAddrs = List.copyOf(remoteAddrs);
    Objects.requireNonNull(plugins, "plugins");
  }

  static RouteSpec parse(JsonNode route, Fields fields) {
    fields.onlyKnown(route, "", FIELDS);
    fields.unsupported(route, "", UNSUPPORTED);
    List<String> uris = uris(route, fields);
    JsonNode methodsNode = route.get("methods");
    Optional<Set<String>> methods =
        methodsNode == null ? Optional.empty() : Optional.of(methods(methodsNode, fields));
    JsonNode priority = route.get("priority");
    if (priority != null && !(priority.isIntegralNumber() && priority.canConvertToInt())) {
      throw fields.invalid("priority", "must be an integer that fits in 32 bits");
    }
    JsonNode varsNode = route.get("vars");
    Optional<Vars<RequestVariable>> vars =
        Fields.present(varsNode)
            ? Optional.of(Vars.ofRequest(varsNode, fields, "vars"))
            : Optional.empty();
    for (String field : LUA_MATCHERS) {
      if (route.get(field) != null) {
        throw fields.invalid(
            field,
            "is Lua code, which Ballast cannot run; the route would match more than it says, so"
                + " it is refused");
      }
    }
    Optional<UpstreamSpec> upstream = inlineUpstream(route, fields);
    Optional<String> upstreamId =
        Optional.ofNullable(fields.reference(route.get("upstream_id"), "upstream_id"));
    Optional<String> serviceId =
        Optional.ofNullable(fields.reference(route.get("service_id"), "service_id"));
    Optional<String> pluginConfigId =
        Optional.ofNullable(fields.reference(route.get("plugin_config_id"), "plugin_config_id"));
    Plugins plugins = Plugins.parse(route.get("plugins"), fields);
    if (upstream.isEmpty()
        && upstreamId.isEmpty()
        && serviceId.isEmpty()
        && route.get("plugins") == null
        && pluginConfigId.isEmpty()) {
      throw fields.invalid(
          "upstream",
          "a route needs upstream, upstream_id, service_id, plugins or plugin_config_id");
    }
    return new RouteSpec(
        uris,
        methods,
        HostNames.hostOrHosts(route, fields),
        remoteAddrs(route, fields),
        vars,
        priority == null ? 0 : priority.intValue(),
        enabled(route, fields),
        upstream,
        upstreamId,
        serviceId,
        pluginConfigId,
        plugins,
        enableWebsocket(route, fields),
        fields.name(route));
  }

  private static List<String> uris(JsonNode route, Fields fields) {
    JsonNode uri = route.get("uri");
    JsonNode uris = route.get("uris");
    if (uri != null && uris != null) {
      throw fields.invalid("uris", "give either uri or uris, not both");
    }
    if (uri == null && uris == null) {
      throw fields.invalid("uri", "is required (or uris)");
    }
    if (uri != null) {
      return List.of(uri(uri, fields, "uri"));
    }
    fields.nonEmptyArray(uris, "uris");
    List<String> result = new ArrayList<>(uris.size());
    for (int i = 0; i < uris.size(); i++) {
      result.add(uri(uris.get(i), fields, "uris[" + i + "]"));
    }
    return result;
  }

  private static String uri(JsonNode uri, Fields fields, String field) {
    if (!uri.isString() || !uri.stringValue().startsWith("/")) {
      throw fields.invalid(field, "must be a path starting with '/'");
    }
    if (uri.stringValue().length() > MAX_URI) {
      throw fields.invalid(field, "is longer than " + MAX_URI + " characters");
    }
    return uri.stringValue();
  }

  private static Set<String> methods(JsonNode methods, Fields fields) {
    if (!methods.isArray()) {
      throw fields.invalid("methods", "must be an array");
    }
    Set<String> result = new LinkedHashSet<>();
    for (int i = 0; i < methods.size(); i++) {
      JsonNode method = methods.get(i);
      String field = "methods[" + i + "]";
      if (!method.isString() || !METHODS.contains(method.stringValue())) {
        throw fields.invalid(
            field, "must be one of " + String.join(", ", METHODS.stream().sorted().toList()));
      }
      if (!result.add(method.stringValue())) {
        throw fields.invalid(field, "'" + method.stringValue() + "' is listed twice");
      }
    }
    return result;
  }

  /** {@code remote_addr} or {@code remote_addrs}, as APISIX takes them (not both). */
  private static List<Cidr> remoteAddrs(JsonNode route, Fields fields) {
    JsonNode one = route.get("remote_addr");
    JsonNode many = route.get("remote_addrs");
    one = Fields.present(one) ? one : null;
    many = Fields.present(many) ? many : null;
    if (one != null && many != null) {
      throw fields.invalid("remote_addrs", "give either remote_addr or remote_addrs, not both");
    }
    if (one != null) {
      return List.of(cidr(one, fields, "remote_addr"));
    }
    if (many == null) {
      return List.of();
    }
    fields.nonEmptyArray(many, "remote_addrs");
    List<Cidr> result = new ArrayList<>(many.size());
    for (int i = 0; i < many.size(); i++) {
      result.add(cidr(many.get(i), fields, "remote_addrs[" + i + "]"));
    }
    return result;
  }

  private static Cidr cidr(JsonNode value, Fields fields, String field) {
    if (!value.isString()) {
      throw fields.invalid(field, "must be an IPv4 or IPv6 address or CIDR string");
    }
    try {
      return Cidr.parse(value.stringValue());
    } catch (IllegalArgumentException e) {
      throw fields.invalid(field, e.getMessage());
    }
  }

  /** APISIX's {@code status}: 1 (the default) serves, 0 disables. */
  static boolean enabled(JsonNode resource, Fields fields) {
    JsonNode status = resource.get("status");
    if (status != null
        && !(status.isIntegralNumber() && (status.asLong() == 0 || status.asLong() == 1))) {
      throw fields.invalid("status", "must be 0 or 1");
    }
    return status == null || status.asLong() == 1;
  }

  static Optional<Boolean> enableWebsocket(JsonNode resource, Fields fields) {
    JsonNode value = resource.get("enable_websocket");
    if (value != null && !value.isBoolean()) {
      throw fields.invalid("enable_websocket", "must be true or false");
    }
    return value == null ? Optional.empty() : Optional.of(value.booleanValue());
  }

  static Optional<UpstreamSpec> inlineUpstream(JsonNode resource, Fields fields) {
    JsonNode upstream = resource.get("upstream");
    if (upstream == null) {
      return Optional.empty();
    }
    if (!upstream.isObject()) {
      throw fields.invalid("upstream", "must be an object");
    }
    return Optional.of(UpstreamSpec.parse(upstream, fields, "upstream."));
  }
}
