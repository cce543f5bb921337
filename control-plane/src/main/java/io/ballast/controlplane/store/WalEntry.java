package io.ballast.controlplane.store;

import io.ballast.resource.ResourceType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * One line of the write-ahead log: {@code {"rev":N,"op":"put"|"delete","type":"routes","id":"1",
 * "value":{...},"created_index":M}}; a delete has neither value nor created_index.
 */
record WalEntry(
    long rev, boolean isPut, ResourceType type, String id, ObjectNode value, long createdIndex) {

  static WalEntry put(long rev, ResourceType type, String id, ObjectNode value, long createdIndex) {
    return new WalEntry(rev, true, type, id, value, createdIndex);
  }

  static WalEntry delete(long rev, ResourceType type, String id) {
    return new WalEntry(rev, false, type, id, null, 0);
  }

  byte[] toLine(JsonMapper mapper) {
    ObjectNode node = mapper.createObjectNode();
    node.put("rev", rev);
    node.put("op", isPut ? "put" : "delete");
    node.put("type", type.plural());
    node.put("id", id);
    if (isPut) {
      node.set("value", value);
      node.put("created_index", createdIndex);
    }
    byte[] json = mapper.writeValueAsBytes(node);
    byte[] line = new byte[json.length + 1];
    System.arraycopy(json, 0, line, 0, json.length);
    line[json.length] = '\n';
    return line;
  }

  /** Parses a log line; throws {@link IllegalArgumentException} naming the field that is wrong. */
  static WalEntry fromJson(JsonNode node) {
    long rev = positiveLong(node, "rev");
    ResourceType type = StoreFields.type(node);
    String id = StoreFields.string(node, "id");
    String op = StoreFields.string(node, "op");
    switch (op) {
      case "put":
        return put(
            rev, type, id, StoreFields.object(node, "value"), positiveLong(node, "created_index"));
      case "delete":
        return delete(rev, type, id);
      default:
        throw new IllegalArgumentException("field 'op' is '" + op + "', expected put or delete");
    }
  }

  private static long positiveLong(JsonNode node, String field) {
    long value = StoreFields.longValue(node, field);
    if (value < 1) {
      throw new IllegalArgumentException("field '" + field + "' must be positive, got " + value);
    }
    return value;
  }
}
