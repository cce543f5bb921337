package io.ballast.chaos;

/** The APISIX v3 Admin API of a control plane, as the chaos tests use it. */
public record AdminApi(int port, String key) {

  public String routeUrl(String id) {
    return "http://127.0.0.1:" + port + "/apisix/admin/routes/" + id;
  }

  public String routesUrl() {
    return "http://127.0.0.1:" + port + "/apisix/admin/routes";
  }

  /** PUT a route proxying {@code uri} to one upstream node, round robin. */
  public Http.Response putRoute(String id, String uri, String upstreamHostPort) {
    return Http.put(routeUrl(id), key, routeBody(uri, upstreamHostPort));
  }

  public Http.Response getRoute(String id) {
    return Http.get(routeUrl(id), key);
  }

  public Http.Response listRoutes() {
    return Http.get(routesUrl(), key);
  }

  static String routeBody(String uri, String upstreamHostPort) {
    return """
        {"uri":"%s","upstream":{"type":"roundrobin","nodes":{"%s":1}}}"""
        .formatted(uri, upstreamHostPort);
  }
}
