package io.ballast.gateway.upstream;

import io.ballast.resource.RequestVariable;
import io.ballast.resource.UpstreamSpec.HashOn;
import java.util.List;

/**
 * What a {@code chash} upstream hashes: APISIX's {@code hash_on} and {@code key}. When the request
 * has no value for the key, the client address is hashed instead, as APISIX does.
 */
record HashKey(HashOn on, String key, RequestVariable variable) {

  /**
   * {@code key} as {@code on} reads it: for {@code vars}, resolved once to a request variable
   * ({@code null} for {@code request_uri}, which the route's request does not hold).
   */
  HashKey(HashOn on, String key) {
    this(on, key, on == HashOn.VARS ? RequestVariable.of(key) : null);
  }

  String valueOf(BalanceContext ctx) {
    String value =
        switch (on) {
          case VARS -> variable != null ? ctx.request().value(variable) : ctx.requestUri();
          case HEADER -> first(ctx.request().headers(key));
          case COOKIE -> first(ctx.request().cookies(key));
          case CONSUMER -> ctx.consumer();
        };
    return value != null ? value : ctx.remoteAddr();
  }

  private static String first(List<String> values) {
    return values.isEmpty() ? null : values.get(0);
  }
}
