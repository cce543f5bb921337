package io.ballast.gateway.http;

import java.util.List;

/**
 * One of the nginx variables APISIX configurations name to read a request: {@code arg_<name>}
 * (query parameter), {@code http_<name>} (header; {@code _} stands for {@code -}), {@code
 * cookie_<name>}, {@code uri}, {@code host}, {@code remote_addr} and {@code request_method}. Route
 * {@code vars}, chash keys and plugin keys read requests through this one class.
 */
public record RequestVariable(Source source, String name) {

  enum Source {
    ARG,
    HTTP,
    COOKIE,
    URI,
    HOST,
    REMOTE_ADDR,
    METHOD
  }

  /** The variable called {@code var}, or {@code null} when it is not one of the known kinds. */
  public static RequestVariable of(String var) {
    if (var.startsWith("arg_") && var.length() > 4) {
      return new RequestVariable(Source.ARG, var.substring(4));
    }
    if (var.startsWith("http_") && var.length() > 5) {
      return new RequestVariable(Source.HTTP, var.substring(5).replace('_', '-'));
    }
    if (var.startsWith("cookie_") && var.length() > 7) {
      return new RequestVariable(Source.COOKIE, var.substring(7));
    }
    return switch (var) {
      case "uri" -> new RequestVariable(Source.URI, var);
      case "host" -> new RequestVariable(Source.HOST, var);
      case "remote_addr" -> new RequestVariable(Source.REMOTE_ADDR, var);
      case "request_method" -> new RequestVariable(Source.METHOD, var);
      default -> null;
    };
  }

  /** Every value; several for a repeated parameter, header or cookie. */
  public List<String> values(RouteRequest request) {
    return switch (source) {
      case ARG -> request.queryParams(name);
      case HTTP -> request.headers(name);
      case COOKIE -> request.cookies(name);
      default -> {
        String value = value(request);
        yield value == null ? List.of() : List.of(value);
      }
    };
  }

  /** The first value, or {@code null} (Lua's nil) when there is none. */
  public String value(RouteRequest request) {
    return switch (source) {
      case URI -> request.path();
      case HOST -> RouteRequest.normalizeHost(request.host());
      case METHOD -> request.method();
      case REMOTE_ADDR ->
          request.remoteAddress() == null ? null : request.remoteAddress().getHostAddress();
      default -> {
        List<String> values = values(request);
        yield values.isEmpty() ? null : values.get(0);
      }
    };
  }
}
