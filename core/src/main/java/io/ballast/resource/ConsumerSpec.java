package io.ballast.resource;

import java.util.Objects;
import tools.jackson.databind.JsonNode;

/**
 * An APISIX consumer: who a request is once an authentication plugin recognises it, and the plugins
 * its requests run. Its authentication plugins hold its credentials.
 */
public record ConsumerSpec(String username, Plugins plugins, String desc) implements ResourceSpec {

  public ConsumerSpec {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(plugins, "plugins");
  }

  static ConsumerSpec parse(String username, JsonNode consumer, Fields fields) {
    return new ConsumerSpec(
        username, Plugins.parse(consumer.get("plugins"), fields), fields.desc(consumer));
  }

  /** Never the plugins: their configurations hold credentials. */
  @Override
  public String toString() {
    return "ConsumerSpec[username=" + username + ", plugins=" + plugins.configs().keySet() + "]";
  }
}
