package io.ballast.resource;

import java.util.Objects;
import tools.jackson.databind.JsonNode;

/** An APISIX global rule: plugins that run for every request, matched by a route or not. */
public record GlobalRuleSpec(Plugins plugins, String desc) implements ResourceSpec {

  public GlobalRuleSpec {
    Objects.requireNonNull(plugins, "plugins");
  }

  static GlobalRuleSpec parse(JsonNode value, Fields fields) {
    if (value.get("plugins") == null) {
      throw fields.invalid("plugins", "is required");
    }
    return new GlobalRuleSpec(Plugins.parse(value.get("plugins"), fields), fields.desc(value));
  }
}
