package io.ballast.snapshot;

import io.ballast.resource.Json;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Format 2: one export, both snapshot kinds at one version, bound by one manifest. This is the
 * content of the pointer ({@code <group>/latest.json}) and of the conf server's answer. Each part
 * is described by a format-1 {@link SnapshotManifest} of the same version.
 *
 * <p>JSON keys are snake_case: {@code format, gateway_group, lineage, version, previous_version,
 * shrink_confirmed, created_at, producer, parts, signed_at, expires_at}, plus {@code signature}
 * once signed ({@link SnapshotSigner}). Unknown keys are kept in the signed bytes and ignored, so a
 * later producer may add some.
 *
 * @param lineage the CP store's lineage id (UUID text)
 * @param version one version for the whole export; every part has this version
 * @param previousVersion the version of the export this one follows, {@link #NO_PREVIOUS} for none
 * @param shrinkConfirmed an operator confirmed a shrink beyond the guard
 * @param createdAt when this version was built
 * @param signedAt when the pointer was last (re-)signed
 * @param expiresAt after this instant the pointer is stale unless re-signed
 */
public record ExportManifest(
    String gatewayGroup,
    String lineage,
    long version,
    long previousVersion,
    boolean shrinkConfirmed,
    Instant createdAt,
    String producer,
    Map<SnapshotKind, SnapshotManifest> parts,
    Instant signedAt,
    Instant expiresAt) {

  /** The format this build writes and reads. */
  public static final int FORMAT_V2 = 2;

  /** {@link #previousVersion} of the first export of a lineage. */
  public static final long NO_PREVIOUS = -1;

  /** The JSON key of the signature, the one key a signature does not cover. */
  static final String SIGNATURE = "signature";

  public ExportManifest {
    Objects.requireNonNull(gatewayGroup, "gatewayGroup");
    Objects.requireNonNull(lineage, "lineage");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(producer, "producer");
    Objects.requireNonNull(signedAt, "signedAt");
    Objects.requireNonNull(expiresAt, "expiresAt");
    if (version < 0) {
      throw new IllegalArgumentException("export version " + version + " is negative");
    }
    EnumMap<SnapshotKind, SnapshotManifest> copy = new EnumMap<>(SnapshotKind.class);
    copy.putAll(parts);
    for (SnapshotKind kind : SnapshotKind.values()) {
      SnapshotManifest part = copy.get(kind);
      if (part == null) {
        throw new IllegalArgumentException("export " + version + " has no " + kind.id() + " part");
      }
      if (part.kind() != kind || part.version() != version) {
        throw new IllegalArgumentException(
            "export "
                + version
                + "'s "
                + kind.id()
                + " part describes "
                + part.kind().id()
                + " version "
                + part.version());
      }
    }
    parts = Map.copyOf(copy);
  }

  public SnapshotManifest part(SnapshotKind kind) {
    return parts.get(kind);
  }

  /** How many routes the export holds: what the shrink guard compares. */
  public long routes() {
    return part(SnapshotKind.RESOURCES).counts().getOrDefault("routes", 0L);
  }

  /** The same export, signed again: only {@code signedAt} and {@code expiresAt} change. */
  public ExportManifest resigned(Instant signedAt, Instant expiresAt) {
    return new ExportManifest(
        gatewayGroup,
        lineage,
        version,
        previousVersion,
        shrinkConfirmed,
        createdAt,
        producer,
        parts,
        signedAt,
        expiresAt);
  }

  /** Whether the pointer has expired at {@code now}: it was not re-signed in time. */
  public boolean expiredAt(Instant now) {
    return now.isAfter(expiresAt);
  }

  /** The unsigned JSON: what a signature covers. */
  public byte[] toJson() {
    return Json.mapper().writeValueAsBytes(toNode());
  }

  ObjectNode toNode() {
    ObjectNode node = Json.mapper().createObjectNode();
    node.put("format", FORMAT_V2);
    node.put("gateway_group", gatewayGroup);
    node.put("lineage", lineage);
    node.put("version", version);
    node.put("previous_version", previousVersion);
    node.put("shrink_confirmed", shrinkConfirmed);
    node.put("created_at", createdAt.toString());
    node.put("producer", producer);
    ObjectNode partsNode = node.putObject("parts");
    for (SnapshotKind kind : SnapshotKind.values()) {
      partsNode.set(kind.id(), part(kind).toNode());
    }
    node.put("signed_at", signedAt.toString());
    node.put("expires_at", expiresAt.toString());
    return node;
  }

  /**
   * Parses an export manifest, signed or not; the signature is {@link SignatureVerifier}'s.
   *
   * @throws SnapshotFormatException naming the key that is missing or wrong
   */
  public static ExportManifest fromJson(byte[] json) {
    return fromNode(readObject(json));
  }

  static ObjectNode readObject(byte[] json) {
    JsonNode node;
    try {
      node = Json.mapper().readTree(json);
    } catch (JacksonException e) {
      throw new SnapshotFormatException("export manifest is not JSON: " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw new SnapshotFormatException("export manifest is not a JSON object");
    }
    return (ObjectNode) node;
  }

  static ExportManifest fromNode(JsonNode node) {
    long format = requireLong(node, "format");
    if (format != FORMAT_V2) {
      throw new SnapshotFormatException(
          "export manifest has format " + format + "; this build reads format " + FORMAT_V2);
    }
    String group = requireString(node, "gateway_group");
    long version = requireLong(node, "version");
    if (version < 0) {
      throw invalid("version", "is negative");
    }
    long previous = requireLong(node, "previous_version");
    if (previous < NO_PREVIOUS || previous >= version) {
      throw invalid("previous_version", "must be -1 or lower than version " + version);
    }
    JsonNode shrink = node.get("shrink_confirmed");
    if (shrink == null || !shrink.isBoolean()) {
      throw invalid("shrink_confirmed", "is missing or not true/false");
    }
    JsonNode partsNode = node.get("parts");
    if (partsNode == null || !partsNode.isObject()) {
      throw invalid("parts", "is missing or not an object");
    }
    Map<SnapshotKind, SnapshotManifest> parts = new EnumMap<>(SnapshotKind.class);
    for (SnapshotKind kind : SnapshotKind.values()) {
      String key = "parts." + kind.id();
      JsonNode partNode = partsNode.get(kind.id());
      if (partNode == null || !partNode.isObject()) {
        throw invalid(key, "is missing or not an object");
      }
      SnapshotManifest part;
      try {
        part = SnapshotManifest.fromNode(partNode);
      } catch (SnapshotFormatException e) {
        // Name the whole key path: "export manifest key 'parts.instance.body_sha256' ...".
        throw new SnapshotFormatException(
            e.getMessage().replace("snapshot manifest key '", "export manifest key '" + key + "."));
      }
      if (part.kind() != kind) {
        throw invalid(key + ".kind", "is '" + part.kind().id() + "'");
      }
      if (part.version() != version) {
        throw invalid(key + ".version", part.version() + " is not the export's " + version);
      }
      if (!part.gatewayGroup().equals(group)) {
        throw invalid(key + ".gateway_group", "'" + part.gatewayGroup() + "' is not " + group);
      }
      parts.put(kind, part);
    }
    return new ExportManifest(
        group,
        requireString(node, "lineage"),
        version,
        previous,
        shrink.booleanValue(),
        requireInstant(node, "created_at"),
        requireString(node, "producer"),
        parts,
        requireInstant(node, "signed_at"),
        requireInstant(node, "expires_at"));
  }

  private static Instant requireInstant(JsonNode node, String key) {
    try {
      return Instant.parse(requireString(node, key));
    } catch (DateTimeParseException e) {
      throw invalid(key, "is not an ISO-8601 instant");
    }
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
    return new SnapshotFormatException("export manifest key '" + key + "' " + problem);
  }
}
