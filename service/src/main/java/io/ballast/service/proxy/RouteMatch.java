package io.ballast.service.proxy;

import java.util.Objects;
import java.util.Optional;

/**
 * The route a request matched and the upstream it resolves to; the upstream is empty when the
 * route's upstream reference cannot be resolved (the proxy answers 503).
 */
public record RouteMatch(String routeId, Optional<Upstream> upstream) {

  public RouteMatch {
    Objects.requireNonNull(routeId, "routeId");
    Objects.requireNonNull(upstream, "upstream");
  }
}
