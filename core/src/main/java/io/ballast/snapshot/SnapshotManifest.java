package io.ballast.snapshot;

import io.ballast.resource.Json;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The small JSON document that describes one snapshot body; {@code latest.json} is the manifest of
 * the newest snapshot. Keys are snake_case: {@code format, gateway_group, kind, version,
 * created_at, producer, body_key, body_size, body_sha256, compression, counts}.
 */
public record SnapshotManifest(
    int format,
    String gatewayGroup,
    SnapshotKind kind,
    long version,
    Instant createdAt,
    String producer,
    String bodyKey,
    long bodySize,
    String bodySha256,
    String compression,
    Map<String, Long> counts) {

  /** The format version this build writes and reads. */
  public static final int FORMAT_V1 = 1;

  public static final String GZIP = "gzip";

  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

  public SnapshotManifest {
    Objects.requireNonNull(gatewayGroup, "gatewayGroup");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(producer, "producer");
    Objects.requireNonNull(bodyKey, "bodyKey");
    Objects.requireNonNull(bodySha256, "bodySha256");
    Objects.requireNonNull(compression, "compression");
    counts = Map.copyOf(counts);
  }

  /** A v1 gzip manifest for a body with {@code stats}. */
  public static SnapshotManifest of(
      String gatewayGroup,
      SnapshotKind kind,
      long version,
      Instant createdAt,
      String producer,
      String bodyKey,
      BodyStats stats) {
    return new SnapshotManifest(
        FORMAT_V1,
        gatewayGroup,
        kind,
        version,
        createdAt,
        producer,
        bodyKey,
        stats.size(),
        stats.sha256Hex(),
        GZIP,
        stats.counts());
  }

  public byte[] toJson() {
    return Json.mapper().writeValueAsBytes(toNode());
  }

  /** The manifest as a JSON object, as {@link #toJson()} writes it (an export embeds it). */
  ObjectNode toNode() {
    ObjectNode node = Json.mapper().createObjectNode();
    node.put("format", format);
    node.put("gateway_group", gatewayGroup);
    node.put("kind", kind.id());
    node.put("version", version);
    node.put("created_at", createdAt.toString());
    node.put("producer", producer);
    node.put("body_key", bodyKey);
    node.put("body_size", bodySize);
    node.put("body_sha256", bodySha256);
    node.put("compression", compression);
    ObjectNode countNode = node.putObject("counts");
    new TreeMap<>(counts).forEach(countNode::put);
    return node;
  }

  /**
   * Parses a manifest. Unknown keys are ignored so that later v1 producers may add some.
   *
   * @throws SnapshotFormatException naming the key that is missing or wrong
   */
  public static SnapshotManifest fromJson(byte[] json) {
    JsonNode node;
    try {
      node = Json.mapper().readTree(json);
    } catch (JacksonException e) {
      throw new SnapshotFormatException("snapshot manifest is not JSON: " + e.getOriginalMessage());
    }
    return fromNode(node);
  }

  /** Reads a manifest from a JSON node (an export embeds one per part). */
  static SnapshotManifest fromNode(JsonNode node) {
    if (node == null || !node.isObject()) {
      throw new SnapshotFormatException("snapshot manifest is not a JSON object");
    }
    long format = requireLong(node, "format");
    if (format != FORMAT_V1) {
      throw new SnapshotFormatException(
          "snapshot manifest has format "
              + format
              + "; this build reads format "
              + FORMAT_V1
              + " only");
    }
    SnapshotKind kind;
    try {
      kind = SnapshotKind.fromId(requireString(node, "kind"));
    } catch (IllegalArgumentException e) {
      throw invalid("kind", e.getMessage());
    }
    Instant createdAt;
    try {
      createdAt = Instant.parse(requireString(node, "created_at"));
    } catch (DateTimeParseException e) {
      throw invalid("created_at", "is not an ISO-8601 instant");
    }
    long version = requireLong(node, "version");
    if (version < 0) {
      throw invalid("version", "is negative");
    }
    long bodySize = requireLong(node, "body_size");
    if (bodySize < 0) {
      throw invalid("body_size", "is negative");
    }
    String sha256 = requireString(node, "body_sha256");
    if (!SHA256_HEX.matcher(sha256).matches()) {
      throw invalid("body_sha256", "is not 64 lower-case hex digits");
    }
    String compression = requireString(node, "compression");
    if (!compression.equals(GZIP)) {
      throw invalid("compression", "'" + compression + "' is not supported (only gzip)");
    }
    JsonNode countNode = node.get("counts");
    if (countNode == null || !countNode.isObject()) {
      throw invalid("counts", "is missing or not an object");
    }
    Map<String, Long> counts = new TreeMap<>();
    for (Map.Entry<String, JsonNode> count : countNode.properties()) {
      JsonNode value = count.getValue();
      if (!value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < 0) {
        throw invalid("counts." + count.getKey(), "is not an integer >= 0");
      }
      counts.put(count.getKey(), value.asLong());
    }
    return new SnapshotManifest(
        FORMAT_V1,
        requireString(node, "gateway_group"),
        kind,
        version,
        createdAt,
        requireString(node, "producer"),
        requireString(node, "body_key"),
        bodySize,
        sha256,
        compression,
        counts);
  }

  private static String requireString(JsonNode node, String key) {
    JsonNode value = node.get(key);
    if (value == null || !value.isString() || value.stringValue().isEmpty()) {
      throw invalid(key, "is missing or not a non-empty string");
    }
    return value.stringValue();
  }

  private static long requireLong(JsonNode node, String key) {
    JsonNode value = node.get(key);
    if (value == null || !value.isIntegralNumber() || !value.canConvertToLong()) {
      throw invalid(key, "is missing or not an integer");
    }
    return value.asLong();
  }

  private static SnapshotFormatException invalid(String key, String problem) {
    return new SnapshotFormatException("snapshot manifest key '" + key + "' " + problem);
  }
}
