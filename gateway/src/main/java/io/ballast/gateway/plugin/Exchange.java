package io.ballast.gateway.plugin;

import io.ballast.gateway.http.HopByHop;
import io.ballast.gateway.http.RouteRequest;
import io.ballast.resource.RequestVariable;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One request on its way through the plugins: the request as the client sent it (read-only), what
 * will be sent upstream (which rewrite plugins change), the route and consumer, and what the log
 * phase needs to know. Used by one request at a time, so it is not thread-safe.
 */
public final class Exchange {

  private final RouteRequest request;
  private final String requestUri;
  private final String scheme;
  private final long startNanos;
  private final String routeId;
  private final String serviceId;

  private final HttpHeaders clientHeaders;

  /** A copy of the client's headers, made when a plugin first asks; {@code null} until then. */
  private HttpHeaders upstreamHeaders;

  private String upstreamMethod;
  private String upstreamUri;
  private String upstreamHost;
  private Consumer consumer;

  private int status;
  private String upstreamNode;
  private long upstreamNanos = -1;
  private long bytesSent;
  private Map<Object, Object> attributes;

  /**
   * @param request the request as received
   * @param requestUri its path and query as received
   * @param scheme {@code http} or {@code https}
   * @param clientHeaders the headers as the client sent them
   * @param routeId the matched route, {@code null} when none matched (global rules still run)
   * @param serviceId the route's service, or {@code null}
   */
  public Exchange(
      RouteRequest request,
      String requestUri,
      String scheme,
      HttpHeaders clientHeaders,
      String routeId,
      String serviceId,
      long startNanos) {
    this.request = Objects.requireNonNull(request, "request");
    this.requestUri = Objects.requireNonNull(requestUri, "requestUri");
    this.scheme = scheme;
    this.clientHeaders = Objects.requireNonNull(clientHeaders, "clientHeaders");
    this.routeId = routeId;
    this.serviceId = serviceId;
    this.startNanos = startNanos;
    this.upstreamMethod = request.method();
    this.upstreamUri = requestUri;
  }

  /** The request as the client sent it. */
  public RouteRequest request() {
    return request;
  }

  /** Path and query as the client sent them. */
  public String requestUri() {
    return requestUri;
  }

  public String scheme() {
    return scheme;
  }

  public long startNanos() {
    return startNanos;
  }

  /** The matched route's id; {@code null} when no route matched. */
  public String routeId() {
    return routeId;
  }

  /** The matched route's service id, or {@code null}. */
  public String serviceId() {
    return serviceId;
  }

  /** The headers that will be sent upstream; change them to change what the upstream sees. */
  public HttpHeaders upstreamHeaders() {
    if (upstreamHeaders == null) {
      upstreamHeaders = new DefaultHttpHeaders();
      HopByHop.copyRequestHeaders(clientHeaders, upstreamHeaders);
    }
    return upstreamHeaders;
  }

  /**
   * Adds the headers for the upstream to {@code to}. Most requests meet no plugin that touches
   * headers; theirs are copied once, straight from the client's, instead of twice.
   */
  public void copyUpstreamHeadersTo(HttpHeaders to) {
    if (upstreamHeaders != null) {
      to.add(upstreamHeaders);
    } else {
      HopByHop.copyRequestHeaders(clientHeaders, to);
    }
  }

  public String upstreamMethod() {
    return upstreamMethod;
  }

  public void upstreamMethod(String method) {
    this.upstreamMethod = Objects.requireNonNull(method, "method");
  }

  /** Path and query to send upstream; the client's until a plugin rewrites it. */
  public String upstreamUri() {
    return upstreamUri;
  }

  public void upstreamUri(String uri) {
    this.upstreamUri = Objects.requireNonNull(uri, "uri");
  }

  /** A Host header that overrides the upstream's pass_host; {@code null} for none. */
  public String upstreamHost() {
    return upstreamHost;
  }

  public void upstreamHost(String host) {
    this.upstreamHost = host;
  }

  /** The consumer an authentication plugin recognised; {@code null} before or without one. */
  public Consumer consumer() {
    return consumer;
  }

  public void consumer(Consumer consumer) {
    this.consumer = consumer;
  }

  /** The value of an APISIX variable for this request, or {@code null} when it has none. */
  public String variable(String name) {
    switch (name) {
      case "consumer_name":
        return consumer == null ? null : consumer.username();
      case "route_id":
        return routeId;
      case "service_id":
        return serviceId;
      case "scheme":
        return scheme;
      case "request_uri":
        return requestUri;
      default:
        RequestVariable variable = RequestVariable.of(name);
        return variable == null ? null : request.value(variable);
    }
  }

  /** Whether {@link #variable} knows {@code name}; plugin configurations are checked with it. */
  public static boolean isVariable(String name) {
    return switch (name) {
      case "consumer_name", "route_id", "service_id", "scheme", "request_uri" -> true;
      default -> RequestVariable.of(name) != null;
    };
  }

  /** The status sent to the client; 0 until the response starts. */
  public int status() {
    return status;
  }

  public void status(int status) {
    this.status = status;
  }

  /** The upstream node that answered, {@code host:port}, or {@code null}. */
  public String upstreamNode() {
    return upstreamNode;
  }

  public void upstreamNode(String node) {
    this.upstreamNode = node;
  }

  /** Time from sending upstream to the upstream's response head; negative when never asked. */
  public long upstreamNanos() {
    return upstreamNanos;
  }

  public void upstreamNanos(long nanos) {
    this.upstreamNanos = nanos;
  }

  /** Response body bytes sent to the client. */
  public long bytesSent() {
    return bytesSent;
  }

  public void addBytesSent(long bytes) {
    this.bytesSent += bytes;
  }

  /**
   * Remembers {@code value} for a later phase of this request, e.g. limit-count's quota for its
   * response headers. Use a key only the plugin holds (such as the plugin instance itself).
   */
  public void attribute(Object key, Object value) {
    if (attributes == null) {
      attributes = new HashMap<>(4);
    }
    attributes.put(key, value);
  }

  /** What {@link #attribute(Object, Object)} remembered under {@code key}, or {@code null}. */
  public <T> T attribute(Object key, Class<T> type) {
    return attributes == null ? null : type.cast(attributes.get(key));
  }
}
