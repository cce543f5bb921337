package io.ballast.resource;

import java.util.Arrays;
import java.util.Optional;

/**
 * The kinds of gateway resources, named as APISIX's Admin API names them. The declaration order is
 * the canonical order of a snapshot body: referenced kinds before the kinds that reference them.
 */
public enum ResourceType {
  UPSTREAMS("upstreams", "upstream"),
  SERVICES("services", "service"),
  CONSUMERS("consumers", "consumer"),
  PLUGIN_CONFIGS("plugin_configs", "plugin_config"),
  GLOBAL_RULES("global_rules", "global_rule"),
  PLUGIN_METADATA("plugin_metadata", "plugin_metadata"),
  SSLS("ssls", "ssl"),
  ROUTES("routes", "route");

  private final String plural;
  private final String singular;

  ResourceType(String plural, String singular) {
    this.plural = plural;
    this.singular = singular;
  }

  /** The Admin API path segment and snapshot type name, e.g. {@code routes}. */
  public String plural() {
    return plural;
  }

  /** The singular used in messages, e.g. {@code route}. */
  public String singular() {
    return singular;
  }

  /** The field that carries a resource's id: {@code username} for consumers, else {@code id}. */
  public String idField() {
    return this == CONSUMERS ? "username" : "id";
  }

  public static Optional<ResourceType> fromPlural(String name) {
    return Arrays.stream(values()).filter(t -> t.plural.equals(name)).findFirst();
  }
}
