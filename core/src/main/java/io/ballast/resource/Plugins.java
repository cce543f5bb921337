package io.ballast.resource;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A resource's {@code plugins}: plugin name to its configuration, in the order written. Each
 * configuration stays JSON here, as APISIX keeps a schema per plugin: the gateway's plugin of that
 * name reads and checks it (so the Admin API and the data plane refuse the same things).
 */
public record Plugins(Map<String, ObjectNode> configs) {

  public static final Plugins NONE = new Plugins(Map.of());

  public Plugins {
    configs = Collections.unmodifiableMap(new LinkedHashMap<>(configs));
  }

  /** {@code plugins} of a resource: an object of plugin name to a configuration object. */
  public static Plugins parse(JsonNode node, Fields fields) {
    if (node == null) {
      return NONE;
    }
    if (!node.isObject()) {
      throw fields.invalid("plugins", "must be an object");
    }
    Map<String, ObjectNode> configs = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> plugin : node.properties()) {
      if (!plugin.getValue().isObject()) {
        throw fields.invalid("plugins." + plugin.getKey(), "must be an object");
      }
      configs.put(plugin.getKey(), (ObjectNode) plugin.getValue());
    }
    return new Plugins(configs);
  }

  /** The plugins' names only: their configurations may hold credentials. */
  @Override
  public String toString() {
    return "Plugins" + configs.keySet();
  }

  public boolean isEmpty() {
    return configs.isEmpty();
  }

  /**
   * These plugins with {@code over}'s on top: a plugin named in both takes {@code over}'s
   * configuration, APISIX's precedence of a route's own plugins over its plugin config's over its
   * service's.
   */
  public Plugins overriddenBy(Plugins over) {
    if (over.isEmpty()) {
      return this;
    }
    if (isEmpty()) {
      return over;
    }
    Map<String, ObjectNode> merged = new LinkedHashMap<>(configs);
    merged.putAll(over.configs);
    return new Plugins(merged);
  }
}
