package io.ballast.resource;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
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

  public ServiceSpec {
    hosts = List.copyOf(hosts);
    Objects.requireNonNull(plugins, "plugins");
  }

  static ServiceSpec parse(JsonNode service, Fields fields) {
    return new ServiceSpec(
        HostNames.hostOrHosts(service, fields),
        RouteSpec.inlineUpstream(service, fields),
        Optional.ofNullable(fields.reference(service.get("upstream_id"), "upstream_id")),
        Plugins.parse(service.get("plugins"), fields),
        RouteSpec.enableWebsocket(service, fields),
        fields.name(service));
  }
}
