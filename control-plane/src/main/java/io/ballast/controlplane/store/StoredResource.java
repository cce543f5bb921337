package io.ballast.controlplane.store;

import io.ballast.resource.Resource;
import java.util.Objects;

/**
 * A resource as the store holds it. The indexes are store revisions, as etcd's are in APISIX:
 * {@code createdIndex} is the revision that created the resource, {@code modifiedIndex} the one
 * that last wrote it.
 */
public record StoredResource(Resource resource, long createdIndex, long modifiedIndex) {

  public StoredResource {
    Objects.requireNonNull(resource, "resource");
  }

  /** True when this version is the one that created the resource (it has not been replaced). */
  public boolean created() {
    return createdIndex == modifiedIndex;
  }
}
