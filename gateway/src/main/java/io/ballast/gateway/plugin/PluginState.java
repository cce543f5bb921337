package io.ballast.gateway.plugin;

import java.util.Map;

/**
 * Plugin state that outlives a configuration swap, such as rate-limit counters. Each compiled
 * configuration holds the state its plugins asked for; the next compilation takes over what it asks
 * for again under the same key and lets the rest go, so nothing needs sweeping.
 */
public final class PluginState {

  private static final PluginState EMPTY = new PluginState(Map.of());

  private final Map<String, Object> entries;

  PluginState(Map<String, Object> entries) {
    this.entries = Map.copyOf(entries);
  }

  public static PluginState empty() {
    return EMPTY;
  }

  Object get(String key) {
    return entries.get(key);
  }

  public int size() {
    return entries.size();
  }
}
