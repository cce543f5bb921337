package io.ballast.resource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * An APISIX upstream's {@code checks}: active probes and, optionally, passive checks of proxied
 * responses. Defaults and limits follow APISIX's schema ({@code apisix/schema_def.lua}), with one
 * widening: intervals may be fractions of a second.
 */
public record HealthCheckConfig(Active active, Thresholds passive) {

  public HealthCheckConfig {
    Objects.requireNonNull(active, "active");
    Objects.requireNonNull(passive, "passive");
  }

  /** How an active probe talks to a node. */
  public enum ProbeType {
    HTTP,
    HTTPS,
    /** Connect only. */
    TCP
  }

  /** One {@code req_headers} entry, sent with every HTTP probe. */
  public record Header(String name, String value) {

    /** The value may be a credential ({@code Authorization}); configs get logged. */
    @Override
    public String toString() {
      return name + ": ***";
    }
  }

  /**
   * When a node changes state: after {@code successes} successes in a row it is healthy, after
   * {@code httpFailures}, {@code tcpFailures} or {@code timeouts} failures of that kind in a row it
   * is unhealthy. A threshold of 0 never triggers. A status in neither list counts for nothing.
   */
  public record Thresholds(
      int successes,
      Set<Integer> healthyStatuses,
      int httpFailures,
      int tcpFailures,
      int timeouts,
      Set<Integer> unhealthyStatuses) {

    /** No passive checks: nothing reported by the proxy changes a node's state. */
    public static final Thresholds NONE = new Thresholds(0, Set.of(), 0, 0, 0, Set.of());

    public Thresholds {
      healthyStatuses = Set.copyOf(healthyStatuses);
      unhealthyStatuses = Set.copyOf(unhealthyStatuses);
    }
  }

  /**
   * Active probing. {@code host} is the Host header (and TLS server name) of HTTP probes, {@code
   * null} for the node's address; {@code port} overrides the node's port, 0 when it does not.
   * Healthy nodes are probed every {@code healthyInterval}, unhealthy ones every {@code
   * unhealthyInterval}.
   */
  public record Active(
      ProbeType type,
      Duration timeout,
      String httpPath,
      String host,
      int port,
      List<Header> requestHeaders,
      boolean verifyCertificate,
      Duration healthyInterval,
      Duration unhealthyInterval,
      Thresholds thresholds) {

    public Active {
      requestHeaders = List.copyOf(requestHeaders);
    }
  }

  private static final List<Integer> ACTIVE_HEALTHY = List.of(200, 302);
  private static final List<Integer> ACTIVE_UNHEALTHY =
      List.of(429, 404, 500, 501, 502, 503, 504, 505);
  private static final List<Integer> PASSIVE_HEALTHY =
      List.of(
          200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307,
          308);
  private static final List<Integer> PASSIVE_UNHEALTHY = List.of(429, 500, 503);

  // The fields APISIX's health_checker schema lists, per object. Ballast reads all of them, so
  // any other (a misspelt threshold would silently take its default) is refused.
  private static final Set<String> ACTIVE_FIELDS =
      Set.of(
          "type",
          "timeout",
          "concurrency",
          "host",
          "port",
          "http_method",
          "http_path",
          "http_req_body",
          "https_verify_certificate",
          "healthy",
          "unhealthy",
          "req_headers");
  private static final Set<String> ACTIVE_HEALTHY_FIELDS =
      Set.of("interval", "http_statuses", "successes");
  private static final Set<String> ACTIVE_UNHEALTHY_FIELDS =
      Set.of("interval", "http_statuses", "http_failures", "tcp_failures", "timeouts");
  private static final Set<String> PASSIVE_FIELDS = Set.of("type", "healthy", "unhealthy");
  private static final Set<String> PASSIVE_HEALTHY_FIELDS = Set.of("http_statuses", "successes");
  private static final Set<String> PASSIVE_UNHEALTHY_FIELDS =
      Set.of("http_statuses", "http_failures", "tcp_failures", "timeouts");

  /** APISIX's bound on every counter threshold. */
  private static final int MAX_COUNT = 254;

  /**
   * Parses a {@code checks} object. {@code prefix} is the path to its fields inside the owning
   * resource, e.g. {@code "checks."} or {@code "upstream.checks."}, so errors name the field.
   */
  public static HealthCheckConfig parse(JsonNode checks, Fields fields, String prefix) {
    Reader r = new Reader(fields);
    r.requireObject(
        checks, prefix.endsWith(".") ? prefix.substring(0, prefix.length() - 1) : "checks");
    fields.onlyKnown(checks, prefix, Set.of("active", "passive"));
    JsonNode activeNode = checks.get("active");
    JsonNode passiveNode = checks.get("passive");
    if (!Fields.present(activeNode)) {
      throw fields.invalid(
          prefix + "active",
          Fields.present(passiveNode)
              ? "is required when passive is set: only active probes bring a node back"
              : "is required");
    }
    Active active = parseActive(activeNode, r, prefix + "active");
    Thresholds passive =
        Fields.present(passiveNode)
            ? parsePassive(passiveNode, r, prefix + "passive")
            : Thresholds.NONE;
    return new HealthCheckConfig(active, passive);
  }

  private static Active parseActive(JsonNode node, Reader r, String field) {
    r.requireObject(node, field);
    r.fields().onlyKnown(node, field + ".", ACTIVE_FIELDS);
    // Probes are GET requests without a body: another method would probe something else.
    JsonNode method = node.get("http_method");
    if (Fields.present(method) && !(method.isString() && method.stringValue().equals("GET"))) {
      r.fields().unsupported(field + ".http_method", "probes other than GET");
    }
    JsonNode body = node.get("http_req_body");
    if (Fields.present(body) && !(body.isString() && body.stringValue().isEmpty())) {
      r.fields().unsupported(field + ".http_req_body", "probes with a body");
    }
    ProbeType type = r.probeType(node.get("type"), field + ".type");
    Duration timeout =
        r.fields().positiveSeconds(node.get("timeout"), field + ".timeout", Duration.ofSeconds(1));
    r.fields().integer(node.get("concurrency"), field + ".concurrency", 1, Integer.MAX_VALUE, 10);
    String httpPath = r.string(node.get("http_path"), field + ".http_path", "/");
    if (!httpPath.startsWith("/")) {
      throw r.fields().invalid(field + ".http_path", "must start with '/'");
    }
    String host = r.string(node.get("host"), field + ".host", null);
    if (host != null && host.isBlank()) {
      throw r.fields().invalid(field + ".host", "must not be blank");
    }
    int port = r.fields().integer(node.get("port"), field + ".port", 1, 65535, 0);
    boolean verify =
        r.bool(node.get("https_verify_certificate"), field + ".https_verify_certificate", true);
    List<Header> headers = r.headers(node.get("req_headers"), field + ".req_headers");

    JsonNode healthy = r.optionalObject(node.get("healthy"), field + ".healthy");
    JsonNode unhealthy = r.optionalObject(node.get("unhealthy"), field + ".unhealthy");
    String h = field + ".healthy.";
    String u = field + ".unhealthy.";
    r.fields().onlyKnown(healthy, h, ACTIVE_HEALTHY_FIELDS);
    r.fields().onlyKnown(unhealthy, u, ACTIVE_UNHEALTHY_FIELDS);
    Duration healthyInterval =
        r.fields().positiveSeconds(healthy.get("interval"), h + "interval", Duration.ofSeconds(1));
    Duration unhealthyInterval =
        r.fields()
            .positiveSeconds(unhealthy.get("interval"), u + "interval", Duration.ofSeconds(1));
    Thresholds thresholds =
        new Thresholds(
            r.fields().integer(healthy.get("successes"), h + "successes", 1, MAX_COUNT, 2),
            r.statuses(healthy.get("http_statuses"), h + "http_statuses", ACTIVE_HEALTHY),
            r.fields()
                .integer(unhealthy.get("http_failures"), u + "http_failures", 1, MAX_COUNT, 5),
            r.fields().integer(unhealthy.get("tcp_failures"), u + "tcp_failures", 1, MAX_COUNT, 2),
            r.fields().integer(unhealthy.get("timeouts"), u + "timeouts", 1, MAX_COUNT, 3),
            r.statuses(unhealthy.get("http_statuses"), u + "http_statuses", ACTIVE_UNHEALTHY));
    return new Active(
        type,
        timeout,
        httpPath,
        host,
        port,
        headers,
        verify,
        healthyInterval,
        unhealthyInterval,
        thresholds);
  }

  private static Thresholds parsePassive(JsonNode node, Reader r, String field) {
    r.requireObject(node, field);
    r.fields().onlyKnown(node, field + ".", PASSIVE_FIELDS);
    // The type only says which failures the proxy can see; it reports what it sees regardless.
    r.probeType(node.get("type"), field + ".type");
    JsonNode healthy = r.optionalObject(node.get("healthy"), field + ".healthy");
    JsonNode unhealthy = r.optionalObject(node.get("unhealthy"), field + ".unhealthy");
    String h = field + ".healthy.";
    String u = field + ".unhealthy.";
    r.fields().onlyKnown(healthy, h, PASSIVE_HEALTHY_FIELDS);
    r.fields().onlyKnown(unhealthy, u, PASSIVE_UNHEALTHY_FIELDS);
    // Passive thresholds may be 0, as in current APISIX: that kind of report never changes state.
    return new Thresholds(
        r.fields().integer(healthy.get("successes"), h + "successes", 0, MAX_COUNT, 5),
        r.statuses(healthy.get("http_statuses"), h + "http_statuses", PASSIVE_HEALTHY),
        r.fields().integer(unhealthy.get("http_failures"), u + "http_failures", 0, MAX_COUNT, 5),
        r.fields().integer(unhealthy.get("tcp_failures"), u + "tcp_failures", 0, MAX_COUNT, 2),
        r.fields().integer(unhealthy.get("timeouts"), u + "timeouts", 0, MAX_COUNT, 7),
        r.statuses(unhealthy.get("http_statuses"), u + "http_statuses", PASSIVE_UNHEALTHY));
  }

  /** Typed reads with APISIX defaults; every failure names the field. */
  private record Reader(Fields fields) {

    void requireObject(JsonNode node, String field) {
      if (!Fields.present(node) || !node.isObject()) {
        throw fields.invalid(field, "must be an object");
      }
    }

    /** An absent block reads as an empty object, so each field takes its default. */
    JsonNode optionalObject(JsonNode node, String field) {
      if (!Fields.present(node)) {
        return JsonNodeFactory.instance.objectNode();
      }
      requireObject(node, field);
      return node;
    }

    ProbeType probeType(JsonNode node, String field) {
      String text = string(node, field, "http");
      return switch (text) {
        case "http" -> ProbeType.HTTP;
        case "https" -> ProbeType.HTTPS;
        case "tcp" -> ProbeType.TCP;
        default -> throw fields.invalid(field, "'" + text + "' is not one of http, https, tcp");
      };
    }

    String string(JsonNode node, String field, String dflt) {
      if (!Fields.present(node)) {
        return dflt;
      }
      return fields.string(node, field);
    }

    boolean bool(JsonNode node, String field, boolean dflt) {
      if (!Fields.present(node)) {
        return dflt;
      }
      if (!node.isBoolean()) {
        throw fields.invalid(field, "must be true or false");
      }
      return node.booleanValue();
    }

    Set<Integer> statuses(JsonNode node, String field, List<Integer> dflt) {
      if (!Fields.present(node)) {
        return Set.copyOf(dflt);
      }
      if (!node.isArray() || node.isEmpty()) {
        throw fields.invalid(field, "must be a non-empty array of HTTP statuses");
      }
      Set<Integer> statuses = new LinkedHashSet<>();
      for (int i = 0; i < node.size(); i++) {
        int status = fields.integer(node.get(i), field + "[" + i + "]", 200, 599);
        if (!statuses.add(status)) {
          throw fields.invalid(field + "[" + i + "]", "duplicate status " + status);
        }
      }
      return statuses;
    }

    /** APISIX writes headers as {@code "Name: value"} strings. */
    List<Header> headers(JsonNode node, String field) {
      if (!Fields.present(node)) {
        return List.of();
      }
      if (!node.isArray() || node.isEmpty()) {
        throw fields.invalid(field, "must be a non-empty array of \"Name: value\" strings");
      }
      List<Header> headers = new ArrayList<>(node.size());
      for (int i = 0; i < node.size(); i++) {
        String itemField = field + "[" + i + "]";
        String text = string(node.get(i), itemField, null);
        if (text == null) {
          throw fields.invalid(itemField, "must be a string");
        }
        int colon = text.indexOf(':');
        String name = colon < 0 ? "" : text.substring(0, colon).strip();
        if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' ' || c >= 127)) {
          throw fields.invalid(itemField, "must be \"Name: value\" with a token as the name");
        }
        headers.add(new Header(name, text.substring(colon + 1).strip()));
      }
      return headers;
    }
  }
}
