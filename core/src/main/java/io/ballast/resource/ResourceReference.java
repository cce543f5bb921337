package io.ballast.resource;

import java.util.List;
import java.util.Optional;

/**
 * A field of one resource kind that names a resource of another, as APISIX resolves them. The one
 * list both the CP store (at write time) and a snapshot's {@link ResourceSet} (at read time) check.
 */
public record ResourceReference(ResourceType from, String field, ResourceType to) {

  public static final List<ResourceReference> ALL =
      List.of(
          new ResourceReference(ResourceType.ROUTES, "upstream_id", ResourceType.UPSTREAMS),
          new ResourceReference(ResourceType.ROUTES, "service_id", ResourceType.SERVICES),
          new ResourceReference(
              ResourceType.ROUTES, "plugin_config_id", ResourceType.PLUGIN_CONFIGS),
          new ResourceReference(ResourceType.SERVICES, "upstream_id", ResourceType.UPSTREAMS));

  /** The id {@code resource} names in this field, if it is of kind {@code from} and sets it. */
  public Optional<String> target(Resource resource) {
    if (resource.type() != from) {
      return Optional.empty();
    }
    if (resource.spec() instanceof RouteSpec route) {
      return switch (field) {
        case "upstream_id" -> route.upstreamId();
        case "service_id" -> route.serviceId();
        default -> route.pluginConfigId();
      };
    }
    return resource.spec(ServiceSpec.class).upstreamId();
  }
}
