package io.ballast.gateway.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Copies end-to-end headers between the two legs of a proxied exchange, leaving out hop-by-hop
 * headers (RFC 9110 section 7.6.1): the fixed set and every name the Connection header lists.
 */
public final class HopByHop {

  private static final Set<String> ALWAYS = caseInsensitive();

  static {
    ALWAYS.addAll(
        Set.of(
            "connection",
            "keep-alive",
            "proxy-connection",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade"));
  }

  private HopByHop() {}

  /**
   * Adds to {@code to} the client's headers the upstream should see: the end-to-end ones without
   * {@code Expect}, which the server already answered (the upstream must not answer it again).
   */
  public static void copyRequestHeaders(HttpHeaders from, HttpHeaders to) {
    copyEndToEnd(from, to);
    to.remove(HttpHeaderNames.EXPECT);
  }

  /** Adds to {@code to} every header of {@code from} that is not hop-by-hop. */
  public static void copyEndToEnd(HttpHeaders from, HttpHeaders to) {
    Set<String> listed = connectionTokens(from);
    for (Map.Entry<String, String> header : from) {
      String name = header.getKey();
      if (!ALWAYS.contains(name) && (listed == null || !listed.contains(name))) {
        to.add(name, header.getValue());
      }
    }
  }

  private static Set<String> connectionTokens(HttpHeaders headers) {
    Set<String> tokens = null;
    for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
      for (String token : value.split(",")) {
        String name = token.trim();
        if (!name.isEmpty()) {
          if (tokens == null) {
            tokens = caseInsensitive();
          }
          tokens.add(name);
        }
      }
    }
    return tokens;
  }

  private static Set<String> caseInsensitive() {
    return new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
  }
}
