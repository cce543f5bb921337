package io.ballast.controlplane.store;

import io.ballast.resource.ResourceType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** Field readers for the store's own files; each failure names the field. */
final class StoreFields {

  private StoreFields() {}

  static String string(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || !value.isString()) {
      throw new IllegalArgumentException("field '" + field + "' must be a string");
    }
    return value.stringValue();
  }

  static long longValue(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || !value.isIntegralNumber() || !value.canConvertToLong()) {
      throw new IllegalArgumentException("field '" + field + "' must be an integer");
    }
    return value.longValue();
  }

  static ObjectNode object(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || !value.isObject()) {
      throw new IllegalArgumentException("field '" + field + "' must be an object");
    }
    return (ObjectNode) value;
  }

  static ResourceType type(JsonNode node) {
    String name = string(node, "type");
    return ResourceType.fromPlural(name)
        .orElseThrow(() -> new IllegalArgumentException("unknown resource type '" + name + "'"));
  }
}
