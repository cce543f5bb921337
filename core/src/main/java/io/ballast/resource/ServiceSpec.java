package io.ballast.resource;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * An APISIX service: what its routes inherit (hosts, an upstream, plugins, {@code
 * enable_websocket}) unless they set their own.
 *
 * @param hosts lower case; empty when the service names none
 */
public record ServiceSpec(
    List<String> hosts,
    Optional<UpstreamSpec> upstream,
    Optional<String> upstreamId,
    Plugins plugins,
    Optional<Boolean> enableWebsocket,
    String name)
    implements ResourceSpec {

  /**
   * The fields APISIX's service schema allows. Not {@code host}: Ballast once read it, so it is
   * still read from data stored then (see {@link ParseMode#TOLERANT}), but a new write is refused.
   */
  static final Set<String> FIELDS =
      Set.of(
          "id",
          "name",
          "desc",
          "labels",
          "create_time",
          "update_time",
          "plugins",
          "upstream",
          "upstream_id",
          "script",
          "enable_websocket",
          "hosts");

  private static final Map<String, String> UNSUPPORTED =
      Map.of("script", "it is Lua code, which Ballast cannot run");

  public ServiceSpec {
    hosts = List.copyOf(hosts);
    Objects.requireNonNull(plugins, "plugins");
  }

  /**
   * APISIX's services name {@code hosts}; a {@code host} is read only when {@code hosts} is absent,
   * and a JSON null counts as absent, as data planes have always read services (the store may hold
   * such services).
   */
  private static List<String> hosts(JsonNode service, Fields fields) {
    JsonNode hosts = service.get("hosts");
    if (Fields.present(hosts)) {
      return HostNames.list(hosts, fields, "hosts");
    }
    JsonNode host = service.get("host");
    return Fields.present(host) ? List.of(HostNames.one(host, fields, "host")) : List.of();
  }

  static ServiceSpec parse(JsonNode service, Fields fields) {
    fields.onlyKnown(service, "", FIELDS);
    fields.unsupported(service, "", UNSUPPORTED);
    return new ServiceSpec(
        hosts(service, fields),
        RouteSpec.inlineUpstream(service, fields),
        Optional.ofNullable(fields.reference(service.get("upstream_id"), "upstream_id")),
        Plugins.parse(service.get("plugins"), fields),
        RouteSpec.enableWebsocket(service, fields),
        fields.name(service));
  }
}
