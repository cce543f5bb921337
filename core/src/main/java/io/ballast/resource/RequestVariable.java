package io.ballast.resource;

/**
 * One of the nginx variables APISIX configurations name to read a request: {@code arg_<name>}
 * (query parameter), {@code http_<name>} (header; {@code _} stands for {@code -}), {@code
 * cookie_<name>}, {@code uri}, {@code host}, {@code remote_addr} and {@code request_method}. The
 * one catalogue of these names: route {@code vars}, chash keys and plugin keys are checked against
 * it; the gateway reads their values from a request.
 */
public record RequestVariable(Source source, String name) {

  public enum Source {
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
}
