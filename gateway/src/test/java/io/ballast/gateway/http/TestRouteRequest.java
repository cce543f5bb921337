package io.ballast.gateway.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A request for matching and plugin tests: set only what a test needs. */
public final class TestRouteRequest implements RouteRequest {

  private String method = "GET";
  private String host;
  private String path = "/";
  private InetAddress remote;
  private final Map<String, List<String>> headers = new HashMap<>();
  private final Map<String, List<String>> query = new HashMap<>();
  private final Map<String, List<String>> cookies = new HashMap<>();

  public static TestRouteRequest get(String path) {
    TestRouteRequest request = new TestRouteRequest();
    request.path = path;
    return request;
  }

  public TestRouteRequest method(String value) {
    method = value;
    return this;
  }

  public TestRouteRequest host(String value) {
    host = value;
    return this;
  }

  public TestRouteRequest from(String address) {
    try {
      remote = InetAddress.getByName(address);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e);
    }
    return this;
  }

  public TestRouteRequest header(String name, String value) {
    headers.computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(value);
    return this;
  }

  public TestRouteRequest arg(String name, String value) {
    query.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
    return this;
  }

  public TestRouteRequest cookie(String name, String value) {
    cookies.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
    return this;
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
    return remote;
  }

  @Override
  public List<String> headers(String name) {
    return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
  }

  @Override
  public List<String> queryParams(String name) {
    return query.getOrDefault(name, List.of());
  }

  @Override
  public List<String> cookies(String name) {
    return cookies.getOrDefault(name, List.of());
  }
}
