package io.ballast.dataplane;

import java.util.Map;

/** A running source of snapshots, started by {@link DataPlane}; it reports to the data plane. */
public interface Follower extends AutoCloseable {

  /** What {@code GET /status} shows of this follower; empty when it has nothing to say. */
  default Map<String, Object> status() {
    return Map.of();
  }

  /** Stops following. */
  @Override
  void close();
}
