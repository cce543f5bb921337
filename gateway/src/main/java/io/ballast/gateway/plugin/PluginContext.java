package io.ballast.gateway.plugin;

import java.util.function.Supplier;
import tools.jackson.databind.node.ObjectNode;

/** What a plugin may know while it is compiled. */
public interface PluginContext {

  /** Where a configuration was found, which decides what it may hold. */
  enum Scope {
    /** A route, or the service or plugin config merged into it, or a global rule. */
    ROUTE,
    /** A consumer: authentication plugins hold the consumer's credentials here. */
    CONSUMER
  }

  Scope scope();

  /** The consumers of the configuration being compiled; empty in {@link Scope#CONSUMER}. */
  Consumers consumers();

  /** The plugin's {@code plugin_metadata} resource value, or {@code null} when there is none. */
  ObjectNode metadata(String pluginName);

  /**
   * State that outlives this configuration's compilation while the next configuration still asks
   * for it under the same {@code key}, such as limit-count's counters: a configuration swap that
   * keeps a route's limit does not reset it. Keys are per plugin name.
   */
  <T> T state(String pluginName, String key, Class<T> type, Supplier<T> create);

  /**
   * A value computed once per compiled configuration and shared by every instance, such as
   * key-auth's index of keys to consumers.
   */
  <T> T perConfiguration(String key, Class<T> type, Supplier<T> create);
}
