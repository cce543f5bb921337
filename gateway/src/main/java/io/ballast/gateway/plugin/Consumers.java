package io.ballast.gateway.plugin;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The consumers of one configuration, and the credential configurations they hold per
 * authentication plugin (e.g. each consumer's {@code key-auth} object).
 */
public final class Consumers {

  /** A consumer's configuration of one plugin. */
  public record Credential(Consumer consumer, PluginConfig config) {}

  private static final Consumers NONE = new Consumers(Map.of(), Map.of());

  private final Map<String, Consumer> byName;
  private final Map<String, List<Credential>> byPlugin;

  Consumers(Map<String, Consumer> byName, Map<String, List<Credential>> byPlugin) {
    this.byName = Map.copyOf(byName);
    this.byPlugin = Map.copyOf(byPlugin);
  }

  public static Consumers none() {
    return NONE;
  }

  public Optional<Consumer> get(String username) {
    return Optional.ofNullable(byName.get(username));
  }

  /** Every consumer's configuration of {@code pluginName}, in username order. */
  public List<Credential> credentials(String pluginName) {
    return byPlugin.getOrDefault(pluginName, List.of());
  }

  public int size() {
    return byName.size();
  }
}
