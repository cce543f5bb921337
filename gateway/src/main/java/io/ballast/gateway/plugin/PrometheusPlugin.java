package io.ballast.gateway.plugin;

/**
 * APISIX's {@code prometheus}: records each exchange of the route in the node's {@link
 * PrometheusMetrics} in the log phase.
 */
final class PrometheusPlugin implements Plugin {

  private final PrometheusMetrics metrics;

  private PrometheusPlugin(PrometheusMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public void log(Exchange exchange) {
    metrics.record(exchange, System.nanoTime());
  }

  static final class Factory implements PluginFactory {

    private final PrometheusMetrics metrics;

    Factory(PrometheusMetrics metrics) {
      this.metrics = metrics;
    }

    @Override
    public String name() {
      return "prometheus";
    }

    @Override
    public int priority() {
      return 500;
    }

    /**
     * {@code prefer_name} is accepted, but routes and services are still labelled by id: the
     * exchange carries no names yet.
     */
    @Override
    public Plugin compile(PluginConfig config, PluginContext context) {
      config.allowOnly("prefer_name");
      config.bool("prefer_name", false);
      return new PrometheusPlugin(metrics);
    }
  }
}
