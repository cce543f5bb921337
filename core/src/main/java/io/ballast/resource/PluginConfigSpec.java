package io.ballast.resource;

import java.util.Objects;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/** An APISIX plugin config: a set of plugins that routes name by {@code plugin_config_id}. */
public record PluginConfigSpec(Plugins plugins, String desc) implements ResourceSpec {

  public PluginConfigSpec {
    Objects.requireNonNull(plugins, "plugins");
  }

  /** The fields APISIX's plugin_config schema allows. */
  static final Set<String> FIELDS =
      Set.of("id", "name", "desc", "labels", "create_time", "update_time", "plugins");

  static PluginConfigSpec parse(JsonNode value, Fields fields) {
    fields.onlyKnown(value, "", FIELDS);
    if (value.get("plugins") == null) {
      throw fields.invalid("plugins", "is required");
    }
    return new PluginConfigSpec(Plugins.parse(value.get("plugins"), fields), fields.desc(value));
  }
}
