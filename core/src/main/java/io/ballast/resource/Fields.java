package io.ballast.resource;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Reads typed fields out of a resource's JSON and fails with a message naming the resource and the
 * field path, e.g. {@code route 'r1': upstream.timeout.read: must be a positive number}.
 */
public final class Fields {

  private final String owner;

  /** {@code owner} is how messages name the resource, e.g. {@code route 'r1'}. */
  public Fields(String owner) {
    this.owner = owner;
  }

  public String owner() {
    return owner;
  }

  public IllegalArgumentException invalid(String field, String problem) {
    return new IllegalArgumentException(owner + ": " + field + ": " + problem);
  }

  public static boolean present(JsonNode node) {
    return node != null && !node.isNull() && !node.isMissingNode();
  }

  public String string(JsonNode node, String field) {
    if (!node.isString()) {
      throw invalid(field, "must be a string");
    }
    return node.stringValue();
  }

  /** A string or an array of strings, as APISIX accepts for {@code uris}, {@code hosts}. */
  public List<String> strings(JsonNode node, String field) {
    if (!node.isArray()) {
      throw invalid(field, "must be an array of strings");
    }
    List<String> values = new ArrayList<>(node.size());
    for (int i = 0; i < node.size(); i++) {
      values.add(string(node.get(i), field + "[" + i + "]"));
    }
    return values;
  }

  public int integer(JsonNode node, String field, int min, int max) {
    if (!node.isIntegralNumber() || !node.canConvertToInt()) {
      throw invalid(field, "must be an integer");
    }
    int value = node.intValue();
    if (value < min || value > max) {
      throw invalid(field, "must be between " + min + " and " + max + ", got " + value);
    }
    return value;
  }

  public double positiveNumber(JsonNode node, String field) {
    if (!node.isNumber() || !(node.doubleValue() > 0) || Double.isInfinite(node.doubleValue())) {
      throw invalid(field, "must be a positive number");
    }
    return node.doubleValue();
  }

  /** {@code null} when absent, so that a route can tell "unset" from {@code false}. */
  public Boolean optionalBoolean(JsonNode node, String field) {
    if (!present(node)) {
      return null;
    }
    if (!node.isBoolean()) {
      throw invalid(field, "must be a boolean");
    }
    return node.booleanValue();
  }
}
