package io.ballast.gateway.proxy;

import io.ballast.gateway.http.RouteRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import reactor.netty.http.server.HttpServerRequest;

/**
 * A Reactor Netty request as route matching sees it. The query string and cookies are parsed on
 * first use only, which is when a route's {@code vars} ask for them.
 */
final class NettyRouteRequest implements RouteRequest {

  private final HttpServerRequest request;
  private final String method;
  private final String host;
  private final String path;
  private final String uri;
  private Map<String, List<String>> query;
  private Map<String, List<String>> cookies;

  /** {@code uri} is the origin-form request target, {@code path} its part before '?'. */
  NettyRouteRequest(HttpServerRequest request, String method, String uri, String path) {
    this.request = request;
    this.method = method;
    this.host = request.requestHeaders().get(HttpHeaderNames.HOST);
    this.uri = uri;
    this.path = path;
  }

  @Override
  public String method() {
    return method;
  }

  @Override
  public String host() {
    return host;
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public InetAddress remoteAddress() {
    InetSocketAddress remote = request.remoteAddress();
    return remote == null ? null : remote.getAddress();
  }

  @Override
  public List<String> headers(String name) {
    return request.requestHeaders().getAll(name);
  }

  @Override
  public List<String> queryParams(String name) {
    if (query == null) {
      query = new QueryStringDecoder(uri).parameters();
    }
    return query.getOrDefault(name, List.of());
  }

  @Override
  public List<String> cookies(String name) {
    if (cookies == null) {
      cookies = new HashMap<>();
      for (String header : request.requestHeaders().getAll(HttpHeaderNames.COOKIE)) {
        for (Cookie cookie : ServerCookieDecoder.LAX.decodeAll(header)) {
          cookies.computeIfAbsent(cookie.name(), k -> new ArrayList<>()).add(cookie.value());
        }
      }
    }
    return cookies.getOrDefault(name, List.of());
  }
}
