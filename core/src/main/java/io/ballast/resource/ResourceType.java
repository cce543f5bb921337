package io.ballast.resource;

import java.util.Arrays;
import java.util.Optional;

/**
 * The kinds of gateway resources, named as APISIX's Admin API names them. The declaration order is
 * the canonical order of a snapshot body: referenced kinds before the kinds that reference them.
 */
public enum ResourceType {
  UPSTREAMS("upstreams"),
  SERVICES("services"),
  CONSUMERS("consumers"),
  ROUTES("routes");

  private final String plural;

  ResourceType(String plural) {
    this.plural = plural;
  }

  /** The Admin API path segment and snapshot type name, e.g. {@code routes}. */
  public String plural() {
    return plural;
  }

  /** The singular used in messages, e.g. {@code route}. */
  public String singular() {
    return plural.substring(0, plural.length() - 1);
  }

  public static Optional<ResourceType> fromPlural(String name) {
    return Arrays.stream(values()).filter(t -> t.plural.equals(name)).findFirst();
  }
}
