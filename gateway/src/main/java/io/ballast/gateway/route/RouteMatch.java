package io.ballast.gateway.route;

import io.ballast.gateway.plugin.PluginChain;
import io.ballast.gateway.upstream.Upstream;
import java.util.Objects;
import java.util.Optional;

/**
 * The route a request matched, the upstream it resolves to (empty when the route's upstream
 * reference cannot be resolved: the proxy answers 503), its service's id ({@code null} without one)
 * its plugins, merged from the route, its plugin config and its service, and whether WebSocket
 * upgrades are proxied (APISIX's {@code enable_websocket}, the route's value over its service's).
 */
public record RouteMatch(
    String routeId,
    Optional<Upstream> upstream,
    String serviceId,
    PluginChain plugins,
    boolean websocket) {

  public RouteMatch {
    Objects.requireNonNull(routeId, "routeId");
    Objects.requireNonNull(upstream, "upstream");
    Objects.requireNonNull(plugins, "plugins");
  }
}
