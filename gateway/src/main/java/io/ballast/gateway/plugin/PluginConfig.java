package io.ballast.gateway.plugin;

import io.ballast.resource.Fields;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One plugin's configuration object, read field by field. Every failure names the owning resource
 * and the full field path, e.g. {@code route 'r1': plugins.limit-count.count: must be an integer}.
 * Unknown fields are refused ({@link #allowOnly}): a setting Ballast would ignore must not look
 * accepted.
 */
public final class PluginConfig {

  /** APISIX's common plugin settings, allowed on every plugin. */
  private static final String META = "_meta";

  private final String pluginName;
  private final ObjectNode value;
  private final Fields fields;
  private final String prefix;

  /**
   * @param prefix the path to this object inside its resource, e.g. {@code plugins.key-auth}
   */
  public PluginConfig(String pluginName, ObjectNode value, Fields fields, String prefix) {
    this.pluginName = pluginName;
    this.value = value;
    this.fields = fields;
    this.prefix = prefix;
  }

  public String pluginName() {
    return pluginName;
  }

  /** The raw object, e.g. to key shared state by the configuration's content. */
  public ObjectNode json() {
    return value;
  }

  /** How messages name the resource holding this configuration, e.g. {@code route 'r1'}. */
  public String owner() {
    return fields.owner();
  }

  /** An error naming {@code key} of this configuration. */
  public IllegalArgumentException invalid(String key, String problem) {
    return fields.invalid(path(key), problem);
  }

  /** The full field path of {@code key}, e.g. {@code plugins.key-auth.header}. */
  public String path(String key) {
    return prefix + "." + key;
  }

  /** Refuses any field but {@code keys} (and {@code _meta}), naming the first unknown one. */
  public void allowOnly(String... keys) {
    Set<String> allowed = Set.of(keys);
    for (String name : value.propertyNames()) {
      if (!allowed.contains(name) && !name.equals(META)) {
        throw invalid(
            name,
            "is not a field of "
                + pluginName
                + " that Ballast supports (known: "
                + String.join(", ", new TreeSet<>(allowed))
                + ")");
      }
    }
  }

  /** Whether {@code key} is present and not null. */
  public boolean has(String key) {
    return Fields.present(value.get(key));
  }

  public JsonNode get(String key) {
    JsonNode node = value.get(key);
    return Fields.present(node) ? node : null;
  }

  public String string(String key, String defaultValue) {
    JsonNode node = get(key);
    return node == null ? defaultValue : fields.string(node, path(key));
  }

  public String requiredString(String key) {
    JsonNode node = get(key);
    if (node == null) {
      throw invalid(key, "is required");
    }
    String text = fields.string(node, path(key));
    if (text.isEmpty()) {
      throw invalid(key, "must not be empty");
    }
    return text;
  }

  /** A string that must be one of {@code allowed}. */
  public String oneOf(String key, String defaultValue, String... allowed) {
    String text = string(key, defaultValue);
    if (text != null && !List.of(allowed).contains(text)) {
      throw invalid(key, "'" + text + "' is not one of " + String.join(", ", allowed));
    }
    return text;
  }

  public int integer(String key, int min, int max, int defaultValue) {
    JsonNode node = get(key);
    return node == null ? defaultValue : fields.integer(node, path(key), min, max);
  }

  public int requiredInteger(String key, int min, int max) {
    JsonNode node = get(key);
    if (node == null) {
      throw invalid(key, "is required");
    }
    return fields.integer(node, path(key), min, max);
  }

  /** A number of at least {@code min} ({@code min} itself allowed when {@code inclusive}). */
  public double number(String key, double min, boolean inclusive, double defaultValue) {
    JsonNode node = get(key);
    if (node == null) {
      return defaultValue;
    }
    if (!node.isNumber()
        || Double.isNaN(node.doubleValue())
        || Double.isInfinite(node.doubleValue())) {
      throw invalid(key, "must be a number");
    }
    double number = node.doubleValue();
    if (inclusive ? number < min : number <= min) {
      throw invalid(key, "must be " + (inclusive ? ">= " : "> ") + min + ", got " + number);
    }
    return number;
  }

  public double requiredNumber(String key, double min, boolean inclusive) {
    if (!has(key)) {
      throw invalid(key, "is required");
    }
    return number(key, min, inclusive, 0);
  }

  public boolean bool(String key, boolean defaultValue) {
    JsonNode node = get(key);
    if (node == null) {
      return defaultValue;
    }
    if (!node.isBoolean()) {
      throw invalid(key, "must be true or false");
    }
    return node.booleanValue();
  }

  /** An array of strings; {@code defaultValue} when absent. */
  public List<String> strings(String key, List<String> defaultValue) {
    JsonNode node = get(key);
    return node == null ? defaultValue : fields.strings(node, path(key));
  }

  /** An array of integers in [min, max]; {@code defaultValue} when absent. */
  public List<Integer> integers(String key, int min, int max, List<Integer> defaultValue) {
    JsonNode node = get(key);
    if (node == null) {
      return defaultValue;
    }
    if (!node.isArray()) {
      throw invalid(key, "must be an array of integers");
    }
    List<Integer> values = new ArrayList<>(node.size());
    for (int i = 0; i < node.size(); i++) {
      values.add(fields.integer(node.get(i), path(key) + "[" + i + "]", min, max));
    }
    return values;
  }

  /** An object of string values (e.g. headers to set); empty when absent. */
  public Map<String, String> stringMap(String key) {
    JsonNode node = get(key);
    if (node == null) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw invalid(key, "must be an object of strings");
    }
    Map<String, String> values = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> entry : node.properties()) {
      JsonNode v = entry.getValue();
      if (!(v.isString() || v.isNumber())) {
        throw invalid(key + "." + entry.getKey(), "must be a string");
      }
      values.put(entry.getKey(), v.asString());
    }
    return values;
  }

  /** A nested object read with the same rules, or {@code null} when absent. */
  public PluginConfig object(String key) {
    JsonNode node = get(key);
    if (node == null) {
      return null;
    }
    if (!node.isObject()) {
      throw invalid(key, "must be an object");
    }
    return new PluginConfig(pluginName, (ObjectNode) node, fields, path(key));
  }

  /** The {@link Fields} of the owning resource, for shared parsers such as route vars. */
  public Fields fields() {
    return fields;
  }

  /** {@code _meta.disable}: APISIX's switch to keep a configuration but not run it. */
  boolean disabled() {
    JsonNode meta = value.get(META);
    return meta != null && meta.isObject() && meta.path("disable").asBoolean(false);
  }
}
