package io.ballast.resource;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A field of one resource kind that names a resource of another, as APISIX resolves them. The one
 * list both the CP store (at write time) and a snapshot's {@link ResourceSet} (at read time) check.
 *
 * @param read the id the field holds, from a spec of kind {@code from}
 */
public record ResourceReference(
    ResourceType from,
    String field,
    ResourceType to,
    Function<ResourceSpec, Optional<String>> read) {

  public static final List<ResourceReference> ALL =
      List.of(
          new ResourceReference(
              ResourceType.ROUTES,
              "upstream_id",
              ResourceType.UPSTREAMS,
              spec -> ((RouteSpec) spec).upstreamId()),
          new ResourceReference(
              ResourceType.ROUTES,
              "service_id",
              ResourceType.SERVICES,
              spec -> ((RouteSpec) spec).serviceId()),
          new ResourceReference(
              ResourceType.ROUTES,
              "plugin_config_id",
              ResourceType.PLUGIN_CONFIGS,
              spec -> ((RouteSpec) spec).pluginConfigId()),
          new ResourceReference(
              ResourceType.SERVICES,
              "upstream_id",
              ResourceType.UPSTREAMS,
              spec -> ((ServiceSpec) spec).upstreamId()));

  /** The id {@code resource} names in this field, if it is of kind {@code from} and sets it. */
  public Optional<String> target(Resource resource) {
    return resource.type() == from ? read.apply(resource.spec()) : Optional.empty();
  }
}
