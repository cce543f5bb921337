package io.ballast.gateway.plugin;

import com.github.benmanes.caffeine.cache.Ticker;

/**
 * What the factories of limit-count and limit-req share: APISIX's name and priority, the clock
 * their windows and buckets run on, and the refusal of any policy but {@code local}.
 */
abstract class LimitFactory implements PluginFactory {

  private final String name;
  private final int priority;

  /** {@link Ticker#systemTicker()}, or a clock tests move by hand. */
  final Ticker ticker;

  LimitFactory(String name, int priority, Ticker ticker) {
    this.name = name;
    this.priority = priority;
    this.ticker = ticker;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final int priority() {
    return priority;
  }

  @Override
  public final Plugin compile(PluginConfig config, PluginContext context) {
    LimitPolicy.requireLocal(config);
    return compileLocal(config, context);
  }

  /** Compiles a configuration whose policy is {@code local}. */
  abstract Plugin compileLocal(PluginConfig config, PluginContext context);
}
