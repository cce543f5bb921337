package io.ballast.gateway.plugin;

/**
 * A plugin type, under its APISIX name. One instance serves every configuration of the type; {@link
 * #compile} is called off the request path, for every resource that names the plugin.
 */
public interface PluginFactory {

  /** APISIX's name, e.g. {@code key-auth}. */
  String name();

  /** APISIX's priority: within a phase, higher runs first. */
  int priority();

  /**
   * Checks and compiles one configuration.
   *
   * @return the plugin to run; {@link PluginChain#NOTHING_TO_RUN} when the configuration only holds
   *     data for other instances, such as a consumer's key-auth {@code key}
   * @throws IllegalArgumentException naming the owner and field at fault ({@link
   *     PluginConfig#invalid})
   */
  Plugin compile(PluginConfig config, PluginContext context);
}
