package io.ballast.gateway.http;

import io.ballast.resource.RequestVariable;
import io.ballast.resource.Vars;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;

/**
 * What route matching may ask of a request. Implementations compute the costly parts (query
 * parameters, cookies) only when a route's {@code vars} ask for them, so routes without {@code
 * vars} match without parsing either.
 */
public interface RouteRequest extends Vars.Lookup<RequestVariable> {

  String method();

  /** The Host header as sent (a port, if any, is ignored by matching); {@code null} when absent. */
  String host();

  /** The request path without the query string. */
  String path();

  /** The TCP peer's address (never X-Forwarded-For); {@code null} when unknown. */
  InetAddress remoteAddress();

  /** The values of a header, case-insensitive name, in the order sent; empty when absent. */
  List<String> headers(String name);

  /** The values of a query parameter, decoded, in the order sent; empty when absent. */
  List<String> queryParams(String name);

  /** The values of a cookie, in the order sent; empty when absent. */
  List<String> cookies(String name);

  /** Every value of {@code variable}; several for a repeated parameter, header or cookie. */
  @Override
  default List<String> values(RequestVariable variable) {
    return switch (variable.source()) {
      case ARG -> queryParams(variable.name());
      case HTTP -> headers(variable.name());
      case COOKIE -> cookies(variable.name());
      default -> {
        String value = value(variable);
        yield value == null ? List.of() : List.of(value);
      }
    };
  }

  /** The first value of {@code variable}, or {@code null} (Lua's nil) when there is none. */
  @Override
  default String value(RequestVariable variable) {
    return switch (variable.source()) {
      case URI -> path();
      case HOST -> normalizeHost(host());
      case METHOD -> method();
      case REMOTE_ADDR -> remoteAddress() == null ? null : remoteAddress().getHostAddress();
      default -> {
        List<String> values = values(variable);
        yield values.isEmpty() ? null : values.get(0);
      }
    };
  }

  /** Lower case, without the port; {@code null} for an absent or empty host. */
  static String normalizeHost(String host) {
    if (host == null || host.isEmpty()) {
      return null;
    }
    String h = host;
    if (h.startsWith("[")) {
      int close = h.indexOf(']');
      h = close > 0 ? h.substring(1, close) : h;
    } else {
      int colon = h.indexOf(':');
      if (colon >= 0 && h.indexOf(':', colon + 1) < 0) {
        h = h.substring(0, colon);
      }
    }
    return h.toLowerCase(Locale.ROOT);
  }

  /** A request with only a method, host and path: no address, headers, query or cookies. */
  static RouteRequest of(String method, String host, String path) {
    return new Plain(method, host, path);
  }

  /** The request that {@link #of} builds. */
  record Plain(String method, String host, String path) implements RouteRequest {

    @Override
    public InetAddress remoteAddress() {
      return null;
    }

    @Override
    public List<String> headers(String name) {
      return List.of();
    }

    @Override
    public List<String> queryParams(String name) {
      return List.of();
    }

    @Override
    public List<String> cookies(String name) {
      return List.of();
    }
  }
}
