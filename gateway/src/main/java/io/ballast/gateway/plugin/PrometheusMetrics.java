package io.ballast.gateway.plugin;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * One node's APISIX metrics and the server Prometheus scrapes them from, by default on APISIX's
 * {@code 127.0.0.1:9091} at {@value #EXPORT_PATH}. The proxy owns one and hands it to {@link
 * PluginRegistry#standard(PrometheusMetrics)}; the {@code prometheus} plugin records the exchanges
 * of the routes that enable it, and the proxy counts every request with {@link #countRequest}.
 *
 * <p>The text is written here rather than by the Prometheus Java client: that client appends {@code
 * _total} to every counter and refuses gauge names ending in {@code _total} or {@code _info}, so it
 * cannot produce APISIX's {@code apisix_http_status}, {@code apisix_bandwidth}, {@code
 * apisix_http_requests_total} or {@code apisix_node_info}, which dashboards and alerts query.
 *
 * <p>Thread-safe: series live in Caffeine caches and count with adders. Memory is bounded: a series
 * not recorded for the idle expiry is dropped, and a metric holds at most {@code maxSeries} series.
 * A full metric evicts the series least likely to be recorded again (by recent use and frequency)
 * and logs it once, rather than refusing new label combinations: an operator would rather see the
 * status code or route that just started to matter, say 502s in an incident, than keep the count of
 * a quiet series, and Prometheus reads a series that comes back as a counter reset.
 */
public final class PrometheusMetrics {

  /** APISIX's default export path. */
  public static final String EXPORT_PATH = "/apisix/prometheus/metrics";

  /** APISIX's default {@code plugin_attr.prometheus.export_addr}. */
  public static final String DEFAULT_HOST = "127.0.0.1";

  public static final int DEFAULT_PORT = 9091;

  /** APISIX's default latency buckets, in milliseconds. */
  static final double[] LATENCY_BUCKETS = {
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000
  };

  private static final Logger LOG = LoggerFactory.getLogger(PrometheusMetrics.class);
  private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final String hostname;
  private final Duration idleExpiry;
  private final int maxSeries;
  private final Ticker ticker;
  private final LongAdder requests = new LongAdder();
  private final Family status;
  private final Family latency;
  private final Family bandwidth;
  private DisposableServer server;

  /** Other parts' metrics, appended to each scrape in their own text format. */
  private final List<Supplier<String>> included = new CopyOnWriteArrayList<>();

  /** Metrics for node {@code hostname}; series idle for 10 minutes expire, 10,000 per metric. */
  public PrometheusMetrics(String hostname) {
    this(hostname, Duration.ofMinutes(10), 10_000, Ticker.systemTicker());
  }

  /** {@code ticker} instead of {@link System#nanoTime}, for tests that move time by hand. */
  PrometheusMetrics(String hostname, Duration idleExpiry, int maxSeries, Ticker ticker) {
    this.hostname = hostname;
    this.idleExpiry = idleExpiry;
    this.maxSeries = maxSeries;
    this.ticker = ticker;
    this.status =
        new Family(
            "apisix_http_status",
            "HTTP status codes per service in APISIX",
            null,
            "code",
            "route",
            "matched_uri",
            "matched_host",
            "service",
            "consumer",
            "node");
    this.latency =
        new Family(
            "apisix_http_latency",
            "HTTP request latency in milliseconds per service in APISIX",
            LATENCY_BUCKETS,
            "type",
            "route",
            "service",
            "consumer",
            "node");
    this.bandwidth =
        new Family(
            "apisix_bandwidth",
            "Total bandwidth in bytes consumed per service in APISIX",
            null,
            "type",
            "route",
            "service",
            "consumer",
            "node");
  }

  /**
   * Appends {@code section} (metrics already in Prometheus' text format, such as the data plane's
   * health) to every scrape.
   */
  public void include(Supplier<String> section) {
    included.add(section);
  }

  /** Counts one client request, whether or not its route runs the prometheus plugin. */
  public void countRequest() {
    requests.increment();
  }

  /**
   * Records an ended exchange as APISIX's prometheus log phase does. Labels Ballast does not know
   * yet are empty: {@code matched_uri} and {@code matched_host} (the route's matching pattern), and
   * the ingress bandwidth is not recorded, as the exchange does not count received bytes.
   */
  void record(Exchange exchange, long endNanos) {
    String route = orEmpty(exchange.routeId());
    String service = orEmpty(exchange.serviceId());
    String consumer = exchange.consumer() == null ? "" : exchange.consumer().username();
    String node = nodeIp(exchange.upstreamNode());

    status.add(
        series -> series.count.increment(),
        Integer.toString(exchange.status()),
        route,
        "",
        "",
        service,
        consumer,
        node);

    double requestMs = Math.max(0, endNanos - exchange.startNanos()) / 1e6;
    observe(requestMs, "request", route, service, consumer, node);
    double upstreamMs = exchange.upstreamNanos() < 0 ? 0 : exchange.upstreamNanos() / 1e6;
    if (exchange.upstreamNanos() >= 0) {
      observe(upstreamMs, "upstream", route, service, consumer, node);
    }
    observe(Math.max(0, requestMs - upstreamMs), "apisix", route, service, consumer, node);

    long sent = exchange.bytesSent();
    bandwidth.add(series -> series.count.add(sent), "egress", route, service, consumer, node);
  }

  private void observe(double ms, String... labels) {
    latency.add(series -> series.observe(ms, LATENCY_BUCKETS), labels);
  }

  /** The metrics in Prometheus' text format 0.0.4. */
  public String scrape() {
    StringBuilder out = new StringBuilder(4096);
    out.append("# HELP apisix_http_requests_total")
        .append(" The total number of client requests since APISIX started\n")
        .append("# TYPE apisix_http_requests_total gauge\n")
        .append("apisix_http_requests_total ")
        .append(requests.sum())
        .append('\n');
    out.append("# HELP apisix_node_info Info of APISIX node\n")
        .append("# TYPE apisix_node_info gauge\n")
        .append("apisix_node_info{hostname=\"")
        .append(escape(hostname))
        .append("\"} 1\n");
    status.write(out);
    latency.write(out);
    bandwidth.write(out);
    included.forEach(section -> out.append(section.get()));
    return out.toString();
  }

  /**
   * Starts answering scrapes on {@code host}:{@code port} (0 for any free port) at {@value
   * #EXPORT_PATH}; other paths get a 404.
   *
   * @return the address it listens on
   */
  public synchronized InetSocketAddress start(String host, int port) {
    if (server != null) {
      throw new IllegalStateException(
          "the Prometheus exporter already listens on " + server.address());
    }
    try {
      server =
          HttpServer.create()
              .host(host)
              .port(port)
              .handle(
                  (request, response) -> {
                    // One answer per connection, so that stop() leaves no connection open.
                    response.keepAlive(false);
                    if (!request.method().equals(HttpMethod.GET)
                        || !request.fullPath().equals(EXPORT_PATH)) {
                      return response.status(HttpResponseStatus.NOT_FOUND).send();
                    }
                    return response
                        .header(HttpHeaderNames.CONTENT_TYPE, CONTENT_TYPE)
                        .sendString(Mono.fromCallable(this::scrape));
                  })
              .bindNow();
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "cannot listen for Prometheus scrapes on " + host + ":" + port + ": " + e.getMessage(),
          e);
    }
    return (InetSocketAddress) server.address();
  }

  /** Stops the scrape server, if started; the metrics are kept. */
  public synchronized void stop() {
    if (server != null) {
      server.disposeNow();
      server = null;
    }
  }

  private static String orEmpty(String value) {
    return value == null ? "" : value;
  }

  /** APISIX labels the node with the balancer's IP, without the port. */
  static String nodeIp(String node) {
    if (node == null) {
      return "";
    }
    if (node.startsWith("[")) {
      int end = node.indexOf(']');
      return end < 0 ? node : node.substring(1, end);
    }
    int colon = node.lastIndexOf(':');
    return colon >= 0 && node.indexOf(':') == colon ? node.substring(0, colon) : node;
  }

  static String escape(String value) {
    if (value.indexOf('\\') < 0 && value.indexOf('"') < 0 && value.indexOf('\n') < 0) {
      return value;
    }
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  private static String number(double value) {
    return value == Math.rint(value) && !Double.isInfinite(value)
        ? Long.toString((long) value)
        : Double.toString(value);
  }

  /** One label combination: a counter, or a histogram's buckets, sum and count. */
  private static final class Series {
    final LongAdder count = new LongAdder();
    final LongAdder[] buckets;
    final DoubleAdder sum;

    Series(double[] bounds) {
      if (bounds == null) {
        buckets = null;
        sum = null;
      } else {
        buckets = new LongAdder[bounds.length];
        Arrays.setAll(buckets, i -> new LongAdder());
        sum = new DoubleAdder();
      }
    }

    void observe(double value, double[] bounds) {
      for (int i = 0; i < bounds.length; i++) {
        if (value <= bounds[i]) {
          buckets[i].increment();
          break;
        }
      }
      sum.add(value);
      count.increment();
    }
  }

  /** One metric: its name, help, label names and series; a histogram when it has buckets. */
  private final class Family {
    final String name;
    final String help;
    final double[] bounds;
    final String[] labelNames;
    final Cache<List<String>, Series> series;
    volatile boolean warnedFull;

    Family(String name, String help, double[] bounds, String... labelNames) {
      this.name = name;
      this.help = help;
      this.bounds = bounds;
      this.labelNames = labelNames;
      this.series =
          Caffeine.newBuilder()
              .maximumSize(maxSeries)
              // Recording a series reads it; a scrape iterates, which is no access.
              .expireAfterAccess(idleExpiry)
              .ticker(ticker)
              .evictionListener(
                  (List<String> labels, Series evicted, RemovalCause cause) -> {
                    if (cause == RemovalCause.SIZE) {
                      warnFull();
                    }
                  })
              .build();
    }

    /**
     * Applies {@code update} to the series of {@code labels}. A new series is published with its
     * first update in it, so that a scrape never shows it empty.
     */
    void add(Consumer<Series> update, String... labels) {
      List<String> key = List.of(labels);
      Series existing = series.getIfPresent(key);
      if (existing == null) {
        Series created = new Series(bounds);
        update.accept(created);
        existing = series.asMap().putIfAbsent(key, created);
        if (existing == null) {
          return;
        }
      }
      update.accept(existing);
    }

    private void warnFull() {
      if (!warnedFull) {
        warnedFull = true;
        LOG.warn(
            "{} holds {} series, its limit; the series least recorded are dropped to make room"
                + " for new label combinations",
            name,
            maxSeries);
      }
    }

    void write(StringBuilder out) {
      // Expired series are left out of the iteration anyway; this also frees them.
      series.cleanUp();
      out.append("# HELP ").append(name).append(' ').append(help).append('\n');
      out.append("# TYPE ").append(name).append(bounds == null ? " counter\n" : " histogram\n");
      series
          .asMap()
          .forEach(
              (labels, s) -> {
                if (bounds == null) {
                  sample(out, name, labels, null).append(s.count.sum()).append('\n');
                  return;
                }
                long cumulative = 0;
                for (int i = 0; i < bounds.length; i++) {
                  cumulative += s.buckets[i].sum();
                  sample(out, name + "_bucket", labels, number(bounds[i]))
                      .append(cumulative)
                      .append('\n');
                }
                // An observation being recorded may be in its bucket and not yet in the count.
                long count = Math.max(cumulative, s.count.sum());
                sample(out, name + "_bucket", labels, "+Inf").append(count).append('\n');
                sample(out, name + "_count", labels, null).append(count).append('\n');
                sample(out, name + "_sum", labels, null).append(number(s.sum.sum())).append('\n');
              });
    }

    private StringBuilder sample(StringBuilder out, String metric, List<String> labels, String le) {
      out.append(metric).append('{');
      for (int i = 0; i < labelNames.length; i++) {
        if (i > 0) {
          out.append(',');
        }
        out.append(labelNames[i]).append("=\"").append(escape(labels.get(i))).append('"');
      }
      if (le != null) {
        out.append(",le=\"").append(le).append('"');
      }
      return out.append("} ");
    }
  }
}
