package io.ballast.snapshot;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import tools.jackson.databind.JsonNode;

/** Reads a manifest's required keys, naming the document and key in every error. */
final class ManifestKeys {

  private final String document;

  /**
   * @param document what the errors call the JSON read, e.g. "export manifest"
   */
  ManifestKeys(String document) {
    this.document = document;
  }

  String string(JsonNode node, String key) {
    JsonNode value = node.get(key);
    if (value == null || !value.isString() || value.stringValue().isEmpty()) {
      throw invalid(key, "is missing or not a non-empty string");
    }
    return value.stringValue();
  }

  long integer(JsonNode node, String key) {
    JsonNode value = node.get(key);
    if (value == null || !value.isIntegralNumber() || !value.canConvertToLong()) {
      throw invalid(key, "is missing or not an integer");
    }
    return value.asLong();
  }

  Instant instant(JsonNode node, String key) {
    try {
      return Instant.parse(string(node, key));
    } catch (DateTimeParseException e) {
      throw invalid(key, "is not an ISO-8601 instant");
    }
  }

  SnapshotFormatException invalid(String key, String problem) {
    return new SnapshotFormatException(document + " key '" + key + "' " + problem);
  }
}
