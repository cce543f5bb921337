package io.ballast.gateway.plugin;

import io.ballast.resource.ConsumerSpec;
import io.ballast.resource.Fields;
import io.ballast.resource.Plugins;
import io.ballast.resource.Resource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import tools.jackson.databind.node.ObjectNode;

/**
 * Compiles the {@code plugins} objects of one configuration: consumers first, so that
 * authentication plugins on routes can index their credentials, then any number of route, service,
 * plugin-config and global-rule chains. Off the request path; one instance per configuration.
 */
public final class PluginCompiler {

  private final PluginRegistry registry;
  private final PluginState previous;
  private final Map<String, ObjectNode> metadata;
  private final Map<String, Object> state = new HashMap<>();
  private final Map<String, Object> perConfiguration = new HashMap<>();
  private Consumers consumers = Consumers.none();

  /**
   * @param previous the state of the configuration being replaced, whose counters carry over
   * @param metadata {@code plugin_metadata} values by plugin name
   */
  public PluginCompiler(
      PluginRegistry registry, PluginState previous, Map<String, ObjectNode> metadata) {
    this.registry = registry;
    this.previous = previous;
    this.metadata = Map.copyOf(metadata);
  }

  /** The state this configuration's plugins asked for, to hand to the next compilation. */
  public PluginState state() {
    return new PluginState(state);
  }

  /**
   * Compiles every consumer's plugins. Authentication plugins hold credentials there; the others
   * run for the consumer's requests in place of the route's plugin of the same name.
   */
  public Consumers compileConsumers(Iterable<Resource> resources) {
    Map<String, Consumer> byName = new TreeMap<>();
    Map<String, List<Consumers.Credential>> byPlugin = new TreeMap<>();
    for (Resource resource : resources) {
      Fields fields = new Fields(resource.owner());
      List<PluginConfig> configs = configs(resource.spec(ConsumerSpec.class).plugins(), fields);
      List<PluginChain.Entry> entries = new ArrayList<>();
      for (PluginConfig config : configs) {
        entries.add(compile(config, PluginContext.Scope.CONSUMER));
      }
      Consumer consumer = new Consumer(resource.id(), PluginChain.of(entries));
      byName.put(resource.id(), consumer);
      for (PluginConfig config : configs) {
        byPlugin
            .computeIfAbsent(config.pluginName(), name -> new ArrayList<>())
            .add(new Consumers.Credential(consumer, config));
      }
    }
    consumers = new Consumers(byName, byPlugin);
    return consumers;
  }

  /**
   * Compiles a {@code plugins} object found in a route, service, plugin config or global rule.
   *
   * @param fields names the resource holding it, for errors
   */
  public PluginChain compile(Plugins plugins, Fields fields) {
    List<PluginChain.Entry> entries = new ArrayList<>();
    for (PluginConfig config : configs(plugins, fields)) {
      entries.add(compile(config, PluginContext.Scope.ROUTE));
    }
    return PluginChain.of(entries);
  }

  private List<PluginConfig> configs(Plugins plugins, Fields fields) {
    List<PluginConfig> configs = new ArrayList<>();
    for (Map.Entry<String, ObjectNode> entry : plugins.configs().entrySet()) {
      String name = entry.getKey();
      String path = "plugins." + name;
      if (registry.get(name).isEmpty()) {
        throw fields.invalid(
            path, "unknown plugin '" + name + "'; Ballast runs " + registry.names());
      }
      PluginConfig config = new PluginConfig(name, entry.getValue(), fields, path);
      if (!config.disabled()) {
        configs.add(config);
      }
    }
    return configs;
  }

  private PluginChain.Entry compile(PluginConfig config, PluginContext.Scope scope) {
    PluginFactory factory = registry.get(config.pluginName()).orElseThrow();
    Plugin plugin = factory.compile(config, new Context(scope));
    return new PluginChain.Entry(factory.name(), factory.priority(), plugin);
  }

  private final class Context implements PluginContext {
    private final Scope scope;

    Context(Scope scope) {
      this.scope = scope;
    }

    @Override
    public Scope scope() {
      return scope;
    }

    @Override
    public Consumers consumers() {
      return scope == Scope.CONSUMER ? Consumers.none() : consumers;
    }

    @Override
    public ObjectNode metadata(String pluginName) {
      return metadata.get(pluginName);
    }

    @Override
    public <T> T state(String pluginName, String key, Class<T> type, Supplier<T> create) {
      String fullKey = pluginName + '\u0000' + key;
      Object value = state.get(fullKey);
      if (value == null) {
        Object carried = previous.get(fullKey);
        value = type.isInstance(carried) ? carried : create.get();
        state.put(fullKey, value);
      }
      return type.cast(value);
    }

    @Override
    public <T> T perConfiguration(String key, Class<T> type, Supplier<T> create) {
      return type.cast(perConfiguration.computeIfAbsent(key, k -> create.get()));
    }
  }
}
