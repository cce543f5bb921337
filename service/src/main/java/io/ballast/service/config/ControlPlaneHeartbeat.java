package io.ballast.service.config;

import io.ballast.config.ConfigNode;
import java.time.Duration;

/**
 * {@code deployment.role_data_plane.control_plane.heartbeat_interval} (a Ballast key; APISIX's data
 * plane watches etcd instead): the {@code wait} of the data plane's long poll, so a live control
 * plane answers at least this often. Silence for {@code wait} + interval gives the control plane
 * up, within three intervals of its last answer. Whole seconds, as the conf server's {@code wait}
 * is; 1 s to 30 s, default 5 s.
 */
public record ControlPlaneHeartbeat(Duration interval) {

  public static final Duration DEFAULT = Duration.ofSeconds(5);
  static final Duration MIN = Duration.ofSeconds(1);
  static final Duration MAX = Duration.ofSeconds(30);

  public static final ControlPlaneHeartbeat DEFAULTS = new ControlPlaneHeartbeat(DEFAULT);

  /** Reads {@code heartbeat_interval} of {@code controlPlane}; its other keys are parsed beside. */
  static ControlPlaneHeartbeat parse(ConfigNode controlPlane) {
    String key = "heartbeat_interval";
    Duration interval = controlPlane.duration(key, DEFAULT);
    if (interval.compareTo(MIN) < 0
        || interval.compareTo(MAX) > 0
        || interval.toMillis() % 1000 != 0) {
      throw controlPlane.error(
          key,
          "must be a whole number of seconds from "
              + MIN.toSeconds()
              + "s to "
              + MAX.toSeconds()
              + "s, not '"
              + controlPlane.string(key, "")
              + "'");
    }
    return new ControlPlaneHeartbeat(interval);
  }
}
