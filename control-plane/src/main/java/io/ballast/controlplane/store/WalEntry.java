package io.ballast.controlplane.store;

import io.ballast.resource.ResourceType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * One line of the write-ahead log: {@code {"rev":N,"op":"put"|"delete","type":"routes","id":"1",
 * "value":{...},"created_index":M}}; a delete has neither value nor created_index. A write an
 * operator confirmed as a large removal of routes carries {@code "shrink_confirmed":true}; {@code
 * {"rev":N,"op":"confirm_shrink"}} is such a confirmation given on its own, after the fact, and
 * changes no resource (its type and id are null).
 */
record WalEntry(
    long rev,
    boolean isPut,
    ResourceType type,
    String id,
    ObjectNode value,
    long createdIndex,
    boolean shrinkConfirmed) {

  private static final String CONFIRM_SHRINK = "confirm_shrink";
  private static final String SHRINK_CONFIRMED = "shrink_confirmed";

  static WalEntry put(
      long rev,
      ResourceType type,
      String id,
      ObjectNode value,
      long createdIndex,
      boolean shrinkConfirmed) {
    return new WalEntry(rev, true, type, id, value, createdIndex, shrinkConfirmed);
  }

  static WalEntry delete(long rev, ResourceType type, String id, boolean shrinkConfirmed) {
    return new WalEntry(rev, false, type, id, null, 0, shrinkConfirmed);
  }

  static WalEntry confirmShrink(long rev) {
    return new WalEntry(rev, false, null, null, null, 0, true);
  }

  /** A confirmation on its own: no resource changes. */
  boolean isConfirmationOnly() {
    return type == null;
  }

  byte[] toLine(JsonMapper mapper) {
    ObjectNode node = mapper.createObjectNode();
    node.put("rev", rev);
    if (isConfirmationOnly()) {
      node.put("op", CONFIRM_SHRINK);
    } else {
      node.put("op", isPut ? "put" : "delete");
      node.put("type", type.plural());
      node.put("id", id);
      if (isPut) {
        node.set("value", value);
        node.put("created_index", createdIndex);
      }
      if (shrinkConfirmed) {
        node.put(SHRINK_CONFIRMED, true);
      }
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
    String op = StoreFields.string(node, "op");
    if (op.equals(CONFIRM_SHRINK)) {
      return confirmShrink(rev);
    }
    ResourceType type = StoreFields.type(node);
    String id = StoreFields.string(node, "id");
    JsonNode confirmed = node.get(SHRINK_CONFIRMED);
    if (confirmed != null && !confirmed.isBoolean()) {
      throw new IllegalArgumentException("field '" + SHRINK_CONFIRMED + "' must be a boolean");
    }
    boolean shrinkConfirmed = confirmed != null && confirmed.booleanValue();
    switch (op) {
      case "put":
        return put(
            rev,
            type,
            id,
            StoreFields.object(node, "value"),
            positiveLong(node, "created_index"),
            shrinkConfirmed);
      case "delete":
        return delete(rev, type, id, shrinkConfirmed);
      default:
        throw new IllegalArgumentException(
            "field 'op' is '" + op + "', expected put, delete or " + CONFIRM_SHRINK);
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
