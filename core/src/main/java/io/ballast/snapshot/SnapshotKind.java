package io.ballast.snapshot;

/**
 * {@code resources} (routes, services, upstreams, consumers, …) go to {@code resource_bucket};
 * {@code instance} (node-level settings) to {@code config_bucket}.
 */
public enum SnapshotKind {
  RESOURCES("resources"),
  INSTANCE("instance");

  private final String id;

  SnapshotKind(String id) {
    this.id = id;
  }

  /** The name used in object keys, manifests and URLs. */
  public String id() {
    return id;
  }

  public static SnapshotKind fromId(String id) {
    for (SnapshotKind kind : values()) {
      if (kind.id.equals(id)) {
        return kind;
      }
    }
    throw new IllegalArgumentException("unknown snapshot kind '" + id + "'");
  }
}
