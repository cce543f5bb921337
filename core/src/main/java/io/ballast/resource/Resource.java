package io.ballast.resource;

import java.util.Objects;
import tools.jackson.databind.node.ObjectNode;

/**
 * One resource exactly as the user wrote it, in APISIX's JSON shape. Fields Ballast does not know
 * are kept, so that a configuration round-trips unchanged. {@code value} carries the {@code id}
 * (or, for consumers, the {@code username}) equal to {@code id}.
 *
 * <p>Treat {@code value} as immutable once a resource is built: snapshots and routers share it.
 */
public record Resource(ResourceType type, String id, ObjectNode value) {

  public Resource {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(value, "value");
  }
}
