package io.ballast.gateway.plugin;

import static io.ballast.gateway.plugin.PluginTesting.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.http.TestRouteRequest;
import io.ballast.resource.Fields;
import io.ballast.resource.Plugins;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.node.ObjectNode;

class PrometheusPluginTest {

  private static final long MS = 1_000_000L;

  private final AtomicLong clock = new AtomicLong(1_000 * MS);
  private final PrometheusMetrics metrics =
      new PrometheusMetrics("gw-1", Duration.ofMinutes(1), 100, clock::get);

  @AfterEach
  void stopServer() {
    metrics.stop();
  }

  private PluginChain compile(String plugins) {
    PluginCompiler compiler =
        new PluginCompiler(
            PluginRegistry.standard(metrics), PluginState.empty(), Map.<String, ObjectNode>of());
    return compiler.compile(
        Plugins.parse(json(plugins), new Fields("route 'r1'")), new Fields("route 'r1'"));
  }

  /** An exchange on route r1 of service s1 that took 30 ms, 20 of them upstream. */
  private Exchange ended(int status, String node, long bytesSent) {
    Exchange exchange =
        new Exchange(
            TestRouteRequest.get("/a"),
            "/a",
            "http",
            new DefaultHttpHeaders(),
            "r1",
            "s1",
            System.nanoTime() - 30 * MS);
    exchange.status(status);
    exchange.upstreamNode(node);
    exchange.upstreamNanos(20 * MS);
    exchange.addBytesSent(bytesSent);
    return exchange;
  }

  @Test
  void theLogPhaseRecordsStatusLatencyAndBandwidthUnderApisixNames() {
    PluginRunner runner = new PluginRunner(PluginChain.EMPTY, compile("{'prometheus': {}}"));

    runner.log(ended(200, "10.0.0.7:8080", 100));
    runner.log(ended(200, "10.0.0.7:8080", 50));
    runner.log(ended(502, "[::1]:80", 7));
    String text = metrics.scrape();

    assertThat(text)
        .contains("# TYPE apisix_http_status counter\n")
        .contains(
            "apisix_http_status{code=\"200\",route=\"r1\",matched_uri=\"\",matched_host=\"\","
                + "service=\"s1\",consumer=\"\",node=\"10.0.0.7\"} 2\n")
        .contains(
            "apisix_http_status{code=\"502\",route=\"r1\",matched_uri=\"\",matched_host=\"\","
                + "service=\"s1\",consumer=\"\",node=\"::1\"} 1\n")
        .contains(
            "apisix_bandwidth{type=\"egress\",route=\"r1\",service=\"s1\",consumer=\"\","
                + "node=\"10.0.0.7\"} 150\n")
        .contains("# TYPE apisix_http_latency histogram\n")
        // 20 ms upstream: not in the 10 ms bucket, in the 20 ms one.
        .contains(
            "apisix_http_latency_bucket{type=\"upstream\",route=\"r1\",service=\"s1\","
                + "consumer=\"\",node=\"10.0.0.7\",le=\"10\"} 0\n")
        .contains(
            "apisix_http_latency_bucket{type=\"upstream\",route=\"r1\",service=\"s1\","
                + "consumer=\"\",node=\"10.0.0.7\",le=\"20\"} 2\n")
        .contains(
            "apisix_http_latency_bucket{type=\"request\",route=\"r1\",service=\"s1\","
                + "consumer=\"\",node=\"10.0.0.7\",le=\"+Inf\"} 2\n")
        .contains(
            "apisix_http_latency_count{type=\"apisix\",route=\"r1\",service=\"s1\","
                + "consumer=\"\",node=\"10.0.0.7\"} 2\n")
        .contains("apisix_node_info{hostname=\"gw-1\"} 1\n")
        .doesNotContain("_total{");
    // Every request spends at least 30 ms: none of it falls in the 20 ms request bucket.
    assertThat(text)
        .contains(
            "apisix_http_latency_bucket{type=\"request\",route=\"r1\",service=\"s1\","
                + "consumer=\"\",node=\"10.0.0.7\",le=\"20\"} 0\n");
  }

  @Test
  void anExchangeThatNeverReachedAnUpstreamHasNoUpstreamLatency() {
    Exchange exchange =
        new Exchange(
            TestRouteRequest.get("/a"), "/a", "http", new DefaultHttpHeaders(), null, null, 0);
    exchange.status(404);
    metrics.record(exchange, 5 * MS);

    String text = metrics.scrape();

    assertThat(text)
        .contains(
            "apisix_http_status{code=\"404\",route=\"\",matched_uri=\"\",matched_host=\"\","
                + "service=\"\",consumer=\"\",node=\"\"} 1\n")
        .contains(
            "apisix_http_latency_sum{type=\"request\",route=\"\",service=\"\",consumer=\"\","
                + "node=\"\"} 5\n")
        .contains(
            "apisix_http_latency_sum{type=\"apisix\",route=\"\",service=\"\",consumer=\"\","
                + "node=\"\"} 5\n")
        .doesNotContain("type=\"upstream\"");
  }

  @Test
  void concurrentExchangesAreAllCounted() throws Exception {
    PluginRunner runner = new PluginRunner(PluginChain.EMPTY, compile("{'prometheus': {}}"));
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 1000; i++) {
                    runner.log(ended(200, "10.0.0.7:8080", 2));
                    metrics.countRequest();
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(metrics.scrape())
        .contains("apisix_http_requests_total 4000\n")
        .contains("node=\"10.0.0.7\"} 4000\n")
        .contains(
            "apisix_bandwidth{type=\"egress\",route=\"r1\",service=\"s1\",consumer=\"\","
                + "node=\"10.0.0.7\"} 8000\n");
  }

  @Test
  void theProxyCountsEveryRequest() {
    metrics.countRequest();
    metrics.countRequest();
    assertThat(metrics.scrape())
        .contains("# TYPE apisix_http_requests_total gauge\napisix_http_requests_total 2\n");
  }

  @Test
  void labelValuesAreEscaped() {
    Exchange exchange =
        new Exchange(
            TestRouteRequest.get("/a"),
            "/a",
            "http",
            new DefaultHttpHeaders(),
            "r\"1\\\n",
            null,
            0);
    metrics.record(exchange, MS);
    assertThat(metrics.scrape()).contains("route=\"r\\\"1\\\\\\n\"");
  }

  @Test
  void seriesNotRecordedForTheIdleExpiryExpireEvenIfScraped() {
    metrics.record(ended(200, "n", 1), System.nanoTime());
    clock.addAndGet(Duration.ofSeconds(50).toNanos());
    metrics.record(ended(201, "n", 1), System.nanoTime());
    assertThat(metrics.scrape()).contains("code=\"200\"").contains("code=\"201\"");

    clock.addAndGet(Duration.ofSeconds(20).toNanos());
    String text = metrics.scrape();

    assertThat(text).doesNotContain("code=\"200\"").contains("code=\"201\"");
  }

  @Test
  void aFullMetricDropsTheSeriesLeastRecordedToRecordNewOnes() {
    PrometheusMetrics metrics = new PrometheusMetrics("gw-1", Duration.ofMinutes(1), 3, clock::get);
    // Scrapes in between, as Prometheus scrapes regularly.
    for (int i = 0; i < 10; i++) {
      metrics.record(ended(200, "n", 1), System.nanoTime());
      metrics.scrape();
    }
    for (int code = 201; code < 206; code++) {
      metrics.record(ended(code, "n", 1), System.nanoTime());
      metrics.scrape();
    }
    String text = metrics.scrape();

    assertThat(text.lines().filter(line -> line.startsWith("apisix_http_status{")))
        .hasSizeLessThanOrEqualTo(3);
    assertThat(text).contains("code=\"200\"").contains("code=\"205\"");
  }

  @Test
  void theScrapeServerAnswersOverHttpAndStops() throws Exception {
    metrics.countRequest();
    InetSocketAddress address = metrics.start("127.0.0.1", 0);
    HttpClient client = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + address.getPort();

    HttpResponse<String> scrape =
        client.send(
            HttpRequest.newBuilder(URI.create(base + PrometheusMetrics.EXPORT_PATH)).build(),
            HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> other =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(scrape.statusCode()).isEqualTo(200);
    assertThat(scrape.headers().firstValue("Content-Type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(scrape.body()).contains("apisix_http_requests_total 1\n");
    assertThat(other.statusCode()).isEqualTo(404);
    assertThatThrownBy(() -> metrics.start("127.0.0.1", 0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already listens");

    metrics.stop();

    assertThatThrownBy(
            () ->
                client.send(
                    HttpRequest.newBuilder(URI.create(base + PrometheusMetrics.EXPORT_PATH))
                        .build(),
                    HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(java.io.IOException.class);
  }

  @Test
  void preferNameIsAccepted() {
    assertThat(compile("{'prometheus': {'prefer_name': true}}").names())
        .containsExactly("prometheus");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          {'prefer_name': 'yes'}   | plugins.prometheus.prefer_name: must be true or false
          {'export_uri': '/m'}     | plugins.prometheus.export_uri: is not a field
          """)
  void refusesBadConfigurationNamingTheField(String conf, String message) {
    assertThatThrownBy(() -> compile("{'prometheus': " + conf + "}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("route 'r1': ")
        .hasMessageContaining(message);
  }

  @Test
  void nodeLabelIsTheAddressWithoutThePort() {
    assertThat(PrometheusMetrics.nodeIp("10.0.0.1:80")).isEqualTo("10.0.0.1");
    assertThat(PrometheusMetrics.nodeIp("[2001:db8::1]:443")).isEqualTo("2001:db8::1");
    assertThat(PrometheusMetrics.nodeIp("2001:db8::1")).isEqualTo("2001:db8::1");
    assertThat(PrometheusMetrics.nodeIp("backend")).isEqualTo("backend");
    assertThat(PrometheusMetrics.nodeIp(null)).isEmpty();
  }
}
