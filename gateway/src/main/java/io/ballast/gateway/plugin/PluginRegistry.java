package io.ballast.gateway.plugin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/** The plugin types a gateway runs, by APISIX name. */
public final class PluginRegistry {

  private final Map<String, PluginFactory> factories;

  private PluginRegistry(Map<String, PluginFactory> factories) {
    this.factories = factories;
  }

  /**
   * Every plugin Ballast ships, with a {@link PrometheusMetrics} of its own that no server exports:
   * for tests and tools that only compile configurations.
   */
  public static PluginRegistry standard() {
    return standard(new PrometheusMetrics(""));
  }

  /** Every plugin Ballast ships; the prometheus plugin records into the node's {@code metrics}. */
  public static PluginRegistry standard(PrometheusMetrics metrics) {
    return of(
        List.of(
            new RequestIdPlugin.Factory(),
            new CorsPlugin.Factory(),
            new IpRestrictionPlugin.Factory(),
            new BasicAuthPlugin.Factory(),
            new KeyAuthPlugin.Factory(),
            new ProxyRewritePlugin.Factory(),
            new LimitCountPlugin.Factory(),
            new LimitReqPlugin.Factory(),
            new ResponseRewritePlugin.Factory(),
            new PrometheusPlugin.Factory(metrics)));
  }

  public static PluginRegistry of(List<PluginFactory> factories) {
    Map<String, PluginFactory> byName = new LinkedHashMap<>();
    for (PluginFactory factory : factories) {
      if (byName.putIfAbsent(factory.name(), factory) != null) {
        throw new IllegalArgumentException("plugin '" + factory.name() + "' is registered twice");
      }
    }
    return new PluginRegistry(Map.copyOf(byName));
  }

  public Optional<PluginFactory> get(String name) {
    return Optional.ofNullable(factories.get(name));
  }

  /** The names, sorted, for messages. */
  public String names() {
    return String.join(", ", new TreeSet<>(factories.keySet()));
  }
}
