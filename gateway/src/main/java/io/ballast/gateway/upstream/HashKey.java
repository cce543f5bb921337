package io.ballast.gateway.upstream;

import io.ballast.gateway.http.RouteRequest;
import io.ballast.resource.UpstreamSpec.HashOn;
import java.util.List;
import java.util.Locale;

/**
 * What a {@code chash} upstream hashes: APISIX's {@code hash_on} and {@code key}. When the request
 * has no value for the key, the client address is hashed instead, as APISIX does.
 */
record HashKey(HashOn on, String key) {

  String valueOf(BalanceContext ctx) {
    String value =
        switch (on) {
          case VARS -> variable(ctx, key);
          case HEADER -> first(ctx.request().headers(key));
          case COOKIE -> first(ctx.request().cookies(key));
          case CONSUMER -> ctx.consumer();
        };
    return value != null ? value : ctx.remoteAddr();
  }

  private static String variable(BalanceContext ctx, String name) {
    RouteRequest request = ctx.request();
    if (name.startsWith("arg_")) {
      return first(request.queryParams(name.substring(4)));
    }
    if (name.startsWith("http_")) {
      // nginx's $http_x_api_key is the X-Api-Key header.
      return first(request.headers(name.substring(5).replace('_', '-')));
    }
    if (name.startsWith("cookie_")) {
      return first(request.cookies(name.substring(7)));
    }
    return switch (name) {
      case "remote_addr" -> ctx.remoteAddr();
      case "uri" -> request.path();
      case "request_uri" -> ctx.requestUri();
      case "host" -> {
        String host = RouteRequest.normalizeHost(request.host());
        yield host == null ? null : host.toLowerCase(Locale.ROOT);
      }
      default -> null;
    };
  }

  private static String first(List<String> values) {
    return values.isEmpty() ? null : values.get(0);
  }
}
