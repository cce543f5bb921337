package io.ballast.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.plugin.PluginRegistry;
import io.ballast.gateway.plugin.PrometheusMetrics;
import io.ballast.gateway.route.RouteTable;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.netty.DisposableServer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** Plugins through the real proxy: precedence, consumers, global rules and gateway errors. */
class PluginProxyTest {

  private final AtomicReference<RouteTable> table = new AtomicReference<>(RouteTable.empty());
  private final PrometheusMetrics metrics = new PrometheusMetrics("test-node");
  private TestUpstream upstream;
  private ProxyServer proxy;
  private DisposableServer bound;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void start() {
    upstream = new TestUpstream("up");
    proxy = new ProxyServer(table::get, ProxyOptions.defaults(), metrics::countRequest);
    bound = proxy.start("127.0.0.1", 0).block(Duration.ofSeconds(10));
  }

  @AfterEach
  void stop() {
    proxy.dispose();
    upstream.close();
  }

  private static Resource resource(ResourceType type, String id, String json) {
    ObjectNode value = (ObjectNode) TestUpstream.JSON.readTree(json.replace('\'', '"'));
    value.put(type == ResourceType.CONSUMERS ? "username" : "id", id);
    return Resource.parse(type, id, value);
  }

  private void configure(Resource... resources) {
    ResourceSet.Builder set = ResourceSet.builder();
    for (Resource resource : resources) {
      set.add(resource);
    }
    table.set(RouteTable.compile(set.build(), PluginRegistry.standard(metrics), table.get()));
  }

  private HttpResponse<String> get(String pathAndQuery, String... headers) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + bound.port() + pathAndQuery));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return http.send(request.build(), BodyHandlers.ofString());
  }

  private String nodes() {
    return "{'nodes': {'" + upstream.address() + "': 1}}";
  }

  @Test
  void routePluginsWinOverPluginConfigOverServiceAndConsumersOverRoutes() throws Exception {
    configure(
        resource(ResourceType.UPSTREAMS, "u", nodes()),
        resource(
            ResourceType.SERVICES,
            "s",
            "{'upstream_id': 'u', 'plugins': {'request-id': {'header_name': 'X-Service-Id'},"
                + " 'key-auth': {}}}"),
        resource(
            ResourceType.PLUGIN_CONFIGS,
            "pc",
            "{'plugins': {'request-id': {'header_name': 'X-Config-Id'}}}"),
        resource(
            ResourceType.ROUTES,
            "from-config",
            "{'uri': '/config', 'service_id': 's', 'plugin_config_id': 'pc'}"),
        resource(
            ResourceType.ROUTES,
            "own",
            "{'uri': '/own', 'service_id': 's', 'plugin_config_id': 'pc',"
                + " 'plugins': {'request-id': {'header_name': 'X-Route-Id'},"
                + " 'key-auth': {'hide_credentials': true}}}"),
        resource(
            ResourceType.CONSUMERS,
            "jack",
            "{'plugins': {'key-auth': {'key': 'k-jack'},"
                + " 'request-id': {'header_name': 'X-Consumer-Id'}}}"),
        resource(ResourceType.CONSUMERS, "jill", "{'plugins': {'key-auth': {'key': 'k-jill'}}}"));

    HttpResponse<String> missing = get("/config");
    assertThat(missing.statusCode()).isEqualTo(401);
    assertThat(TestUpstream.JSON.readTree(missing.body()).get("message").asString())
        .isEqualTo("Missing API key in request");
    assertThat(missing.headers().firstValue("X-Config-Id")).isPresent();
    assertThat(upstream.requests.get()).isZero();

    HttpResponse<String> viaConfig = get("/config", "apikey", "k-jill");
    assertThat(viaConfig.statusCode()).isEqualTo(200);
    assertThat(viaConfig.headers().firstValue("X-Config-Id")).isPresent();
    assertThat(viaConfig.headers().firstValue("X-Service-Id")).isEmpty();

    HttpResponse<String> own = get("/own?a=1&apikey=k-jill&b=x%20y");
    assertThat(own.statusCode()).isEqualTo(200);
    assertThat(own.headers().firstValue("X-Route-Id")).isPresent();
    JsonNode echo = TestUpstream.JSON.readTree(own.body());
    assertThat(echo.get("uri").asString()).isEqualTo("/own?a=1&b=x%20y");
    assertThat(echo.get("headers").get("x-route-id").asString())
        .isEqualTo(own.headers().firstValue("X-Route-Id").orElseThrow());

    HttpResponse<String> consumer = get("/own", "apikey", "k-jack");
    assertThat(consumer.statusCode()).isEqualTo(200);
    assertThat(consumer.headers().firstValue("X-Consumer-Id")).isPresent();
    assertThat(consumer.headers().firstValue("X-Route-Id")).isEmpty();
    assertThat(TestUpstream.JSON.readTree(consumer.body()).get("headers").has("apikey")).isFalse();

    assertThat(get("/own", "apikey", "nope").statusCode()).isEqualTo(401);
  }

  @Test
  void globalRulesRunForUnmatchedRequestsAndGatewayErrors() throws Exception {
    configure(
        resource(
            ResourceType.GLOBAL_RULES,
            "g",
            "{'plugins': {'request-id': {'header_name': 'X-Global-Id'}}}"),
        resource(
            ResourceType.ROUTES,
            "down",
            "{'uri': '/down', 'upstream': {'nodes': {'127.0.0.1:1': 1}, 'retries': 0}}"));

    HttpResponse<String> notFound = get("/nowhere");
    assertThat(notFound.statusCode()).isEqualTo(404);
    assertThat(notFound.body()).isEqualTo("{\"error_msg\":\"404 Route Not Found\"}");
    assertThat(notFound.headers().firstValue("X-Global-Id")).isPresent();

    HttpResponse<String> badGateway = get("/down", "X-Global-Id", "given-by-client");
    assertThat(badGateway.statusCode()).isEqualTo(502);
    assertThat(badGateway.headers().firstValue("X-Global-Id")).contains("given-by-client");
  }

  @Test
  void limitCountAnswers429WithQuotaHeadersAndKeepsCountingAcrossASwap() throws Exception {
    Resource limited =
        resource(
            ResourceType.ROUTES,
            "r1",
            "{'uri': '/limited', 'upstream': "
                + nodes()
                + ", 'plugins': {'limit-count': {'count': 2, 'time_window': 60,"
                + " 'rejected_code': 429, 'rejected_msg': 'slow down'}}}");
    configure(limited);

    HttpResponse<String> first = get("/limited");
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().firstValue("X-RateLimit-Limit")).contains("2");
    assertThat(first.headers().firstValue("X-RateLimit-Remaining")).contains("1");
    assertThat(get("/limited").headers().firstValue("X-RateLimit-Remaining")).contains("0");
    HttpResponse<String> third = get("/limited");
    assertThat(third.statusCode()).isEqualTo(429);
    assertThat(third.body()).isEqualTo("{\"error_msg\":\"slow down\"}");
    assertThat(upstream.requests.get()).isEqualTo(2);

    // Another route changes; r1's limit is the same, so its count carries over.
    configure(
        limited,
        resource(ResourceType.ROUTES, "r2", "{'uri': '/other', 'upstream': " + nodes() + "}"));
    assertThat(get("/other").statusCode()).isEqualTo(200);
    assertThat(get("/limited").statusCode()).isEqualTo(429);
  }

  @Test
  void corsIpRestrictionAndProxyRewriteTogether() throws Exception {
    String plugins =
        "'cors': {'allow_origins': 'https://a.example'},"
            + " 'proxy-rewrite': {'regex_uri': ['^/cors/(.*)', '/echo-json/$1'],"
            + " 'headers': {'set': {'X-Seg': '$1'}}}";
    configure(
        resource(
            ResourceType.ROUTES,
            "r1",
            "{'uri': '/cors/*', 'upstream': "
                + nodes()
                + ", 'plugins': {"
                + plugins
                + ", 'ip-restriction': {'whitelist': ['127.0.0.1']}}}"));

    HttpResponse<String> preflight =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + bound.port() + "/cors/x"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "https://a.example")
                .header("Access-Control-Request-Method", "PUT")
                .build(),
            BodyHandlers.ofString());
    assertThat(preflight.statusCode()).isEqualTo(200);
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin"))
        .contains("https://a.example");
    assertThat(upstream.requests.get()).isZero();

    HttpResponse<String> proxied = get("/cors/x?q=1", "Origin", "https://a.example");
    assertThat(proxied.statusCode()).isEqualTo(200);
    assertThat(proxied.headers().firstValue("Access-Control-Allow-Origin"))
        .contains("https://a.example");
    JsonNode echo = TestUpstream.JSON.readTree(proxied.body());
    assertThat(echo.get("uri").asString()).isEqualTo("/echo-json/x?q=1");
    assertThat(echo.get("headers").get("x-seg").asString()).isEqualTo("x");

    configure(
        resource(
            ResourceType.ROUTES,
            "r1",
            "{'uri': '/cors/*', 'upstream': "
                + nodes()
                + ", 'plugins': {"
                + plugins
                + ", 'ip-restriction': {'whitelist': ['10.9.9.9']}}}"));
    HttpResponse<String> refused = get("/cors/x", "Origin", "https://a.example");
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body()).isEqualTo("{\"message\":\"Your IP address is not allowed\"}");
    assertThat(refused.headers().firstValue("Access-Control-Allow-Origin"))
        .contains("https://a.example");
    assertThat(upstream.requests.get()).isEqualTo(1);
  }

  @Test
  void responseRewriteReplacesAnUpstreamErrorAndPrometheusCountsIt() throws Exception {
    configure(
        resource(
            ResourceType.ROUTES,
            "r1",
            "{'uri': '/api/*', 'upstream': {'nodes': {'127.0.0.1:1': 1}, 'retries': 0},"
                + " 'plugins': {'response-rewrite': {'vars': [['status', '>=', 500]],"
                + " 'status_code': 503, 'body': '{\\\"message\\\":\\\"down\\\"}',"
                + " 'headers': {'set': {'X-Route': '$route_id'}}}, 'prometheus': {}}}"));

    HttpResponse<String> response = get("/api/x");

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.body()).isEqualTo("{\"message\":\"down\"}");
    assertThat(response.headers().firstValue("Content-Length")).contains("18");
    assertThat(response.headers().firstValue("X-Route")).contains("r1");
    // The log phase runs as the exchange ends, which may be just after the client has its answer.
    String scrape = scrapeOnce("apisix_http_status{code=\"503\"");
    assertThat(scrape).containsPattern("apisix_http_status\\{code=\"503\",route=\"r1\"[^}]*\\} 1");
    assertThat(scrape).contains("apisix_http_requests_total 1");
  }

  /** The scrape text once it contains {@code expected}, or as it is after a 5 s deadline. */
  private String scrapeOnce(String expected) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    String scrape = metrics.scrape();
    while (!scrape.contains(expected) && System.nanoTime() < deadline) {
      Thread.sleep(10);
      scrape = metrics.scrape();
    }
    return scrape;
  }

  @Test
  void anUnknownPluginOrBadConfigIsRefusedNamingThePluginAndField() {
    Resource unknown =
        resource(
            ResourceType.ROUTES,
            "r1",
            "{'uri': '/a', 'plugins': {'no-such-plugin': {}}, " + "'upstream': " + nodes() + "}");
    assertThatThrownBy(() -> configure(unknown))
        .hasMessageContaining(
            "route 'r1': plugins.no-such-plugin: unknown plugin 'no-such-plugin'");
    assertThatThrownBy(
            () ->
                RouteTable.check(
                    resource(
                        ResourceType.GLOBAL_RULES,
                        "g",
                        "{'plugins': {'request-id': {'header_name': 5}}}"),
                    PluginRegistry.standard(),
                    List.of()))
        .hasMessage("global_rule 'g': plugins.request-id.header_name: must be a string");
  }
}
