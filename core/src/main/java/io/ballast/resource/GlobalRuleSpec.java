package io.ballast.resource;

import java.util.Objects;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/** An APISIX global rule: plugins that run for every request, matched by a route or not. */
public record GlobalRuleSpec(Plugins plugins, String desc) implements ResourceSpec {

  public GlobalRuleSpec {
    Objects.requireNonNull(plugins, "plugins");
  }

  /** The fields APISIX's global_rule schema allows. */
  static final Set<String> FIELDS = Set.of("id", "create_time", "update_time", "plugins");

  static GlobalRuleSpec parse(JsonNode value, Fields fields) {
    fields.onlyKnown(value, "", FIELDS);
    if (value.get("plugins") == null) {
      throw fields.invalid("plugins", "is required");
    }
    return new GlobalRuleSpec(Plugins.parse(value.get("plugins"), fields), fields.desc(value));
  }
}
