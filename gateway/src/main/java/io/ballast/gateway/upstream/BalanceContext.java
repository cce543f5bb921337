package io.ballast.gateway.upstream;

import io.ballast.gateway.http.RouteRequest;
import java.util.Objects;

/**
 * What a balancer may know about the request it places: the request as route matching sees it, its
 * origin-form target (APISIX's {@code request_uri}, path and query) and the authenticated
 * consumer's name ({@code null} when no authentication plugin ran).
 */
public record BalanceContext(RouteRequest request, String requestUri, String consumer) {

  public BalanceContext {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(requestUri, "requestUri");
  }

  /** A context without a client: no address, headers, query or cookies. */
  static BalanceContext none() {
    return new BalanceContext(RouteRequest.of("GET", null, "/"), "/", null);
  }

  /** The TCP peer's address as text, or {@code null} when unknown. */
  String remoteAddr() {
    return request.remoteAddress() == null ? null : request.remoteAddress().getHostAddress();
  }
}
