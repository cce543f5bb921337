package io.ballast.resource;

import java.util.Map;
import java.util.Objects;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * An APISIX consumer: who a request is once an authentication plugin recognises it, and the plugins
 * its requests run. Its authentication plugins hold its credentials.
 */
public record ConsumerSpec(String username, Plugins plugins, String desc) implements ResourceSpec {

  /** The fields APISIX's consumer schema allows. */
  static final Set<String> FIELDS =
      Set.of(
          "id", "username", "desc", "labels", "create_time", "update_time", "group_id", "plugins");

  /**
   * A consumer group's plugins (a rate limit, a restriction) would not run for its members: the
   * consumer would get more than its group allows.
   */
  private static final Map<String, String> UNSUPPORTED =
      Map.of("group_id", "consumer groups; put the group's plugins on the consumer");

  public ConsumerSpec {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(plugins, "plugins");
  }

  static ConsumerSpec parse(String username, JsonNode consumer, Fields fields) {
    fields.onlyKnown(consumer, "", FIELDS);
    fields.unsupported(consumer, "", UNSUPPORTED);
    return new ConsumerSpec(
        username, Plugins.parse(consumer.get("plugins"), fields), fields.desc(consumer));
  }

  /** Never the plugins: their configurations hold credentials. */
  @Override
  public String toString() {
    return "ConsumerSpec[username=" + username + ", plugins=" + plugins.configs().keySet() + "]";
  }
}
