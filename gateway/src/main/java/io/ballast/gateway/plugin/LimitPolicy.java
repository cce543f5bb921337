package io.ballast.gateway.plugin;

import java.util.Set;

/**
 * APISIX's {@code policy} of limit-count and limit-req. Ballast counts on each node only ({@code
 * local}); the Redis policies and their settings are refused so that a limit meant to be shared by
 * all nodes does not silently become a per-node one.
 */
final class LimitPolicy {

  private static final Set<String> REMOTE = Set.of("redis", "redis-cluster", "redis-sentinel");
  private static final String LOCAL_ONLY = "is not supported: Ballast counts on each node only";

  private LimitPolicy() {}

  /** Refuses any policy but {@code local} and any Redis setting; call before allowOnly. */
  static void requireLocal(PluginConfig config) {
    String policy = config.string("policy", "local");
    if (REMOTE.contains(policy)) {
      throw config.invalid("policy", "'" + policy + "' " + LOCAL_ONLY + " (policy 'local')");
    }
    config.oneOf("policy", "local", "local");
    for (String name : config.json().propertyNames()) {
      // Only the name is reported: redis_password's value is a secret.
      if (name.startsWith("redis_") || name.equals("sync_interval")) {
        throw config.invalid(name, LOCAL_ONLY + " (no Redis policy)");
      }
    }
  }
}
