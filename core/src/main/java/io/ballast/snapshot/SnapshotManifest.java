package io.ballast.snapshot;

import io.ballast.resource.Json;
import java.time.Instant;
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

  private static final ManifestKeys KEYS = new ManifestKeys("snapshot manifest");

  /** The format version this build writes and reads. */
  public static final int FORMAT_V1 = 1;

  public static final String GZIP = "gzip";

  /** A SHA-256 as manifests and body keys write it: 64 lower-case hex digits. */
  static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

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
    long format = KEYS.integer(node, "format");
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
      kind = SnapshotKind.fromId(KEYS.string(node, "kind"));
    } catch (IllegalArgumentException e) {
      throw KEYS.invalid("kind", e.getMessage());
    }
    Instant createdAt = KEYS.instant(node, "created_at");
    long version = KEYS.integer(node, "version");
    if (version < 0) {
      throw KEYS.invalid("version", "is negative");
    }
    long bodySize = KEYS.integer(node, "body_size");
    if (bodySize < 0) {
      throw KEYS.invalid("body_size", "is negative");
    }
    String sha256 = KEYS.string(node, "body_sha256");
    if (!SHA256_HEX.matcher(sha256).matches()) {
      throw KEYS.invalid("body_sha256", "is not 64 lower-case hex digits");
    }
    String compression = KEYS.string(node, "compression");
    if (!compression.equals(GZIP)) {
      throw KEYS.invalid("compression", "'" + compression + "' is not supported (only gzip)");
    }
    JsonNode countNode = node.get("counts");
    if (countNode == null || !countNode.isObject()) {
      throw KEYS.invalid("counts", "is missing or not an object");
    }
    Map<String, Long> counts = new TreeMap<>();
    for (Map.Entry<String, JsonNode> count : countNode.properties()) {
      JsonNode value = count.getValue();
      if (!value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < 0) {
        throw KEYS.invalid("counts." + count.getKey(), "is not an integer >= 0");
      }
      counts.put(count.getKey(), value.asLong());
    }
    return new SnapshotManifest(
        FORMAT_V1,
        KEYS.string(node, "gateway_group"),
        kind,
        version,
        createdAt,
        KEYS.string(node, "producer"),
        KEYS.string(node, "body_key"),
        bodySize,
        sha256,
        compression,
        counts);
  }
}
