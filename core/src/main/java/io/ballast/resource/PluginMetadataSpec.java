package io.ballast.resource;

import java.util.Objects;
import tools.jackson.databind.node.ObjectNode;

/**
 * APISIX's plugin metadata: settings shared by every use of one plugin, under the plugin's name.
 * Like a plugin's configuration, it is read by the plugin it belongs to.
 */
public record PluginMetadataSpec(String pluginName, ObjectNode value) implements ResourceSpec {

  public PluginMetadataSpec {
    Objects.requireNonNull(pluginName, "pluginName");
    Objects.requireNonNull(value, "value");
  }
}
