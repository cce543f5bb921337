package io.ballast.resource;

import io.ballast.config.Suggestions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * Reads typed fields out of a resource's JSON and fails with a message naming the resource and the
 * field path, e.g. {@code route 'r1': upstream.timeout.read: must be a positive number}. The one
 * reader of APISIX resources: the resource specs and the plugins' configurations read through it.
 */
public final class Fields {

  /** APISIX's resource ids: also the ids that references such as {@code upstream_id} name. */
  static final Pattern ID = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  private final String owner;
  private final ParseMode mode;
  private final List<String> ignored = new ArrayList<>();

  /**
   * {@code owner} is how messages name the resource, e.g. {@code route 'r1'}; unknown fields are
   * refused.
   */
  public Fields(String owner) {
    this(owner, ParseMode.STRICT);
  }

  Fields(String owner, ParseMode mode) {
    this.owner = owner;
    this.mode = mode;
  }

  Fields(ResourceType type, String id, ParseMode mode) {
    this(InvalidResourceException.ownerOf(type, id), mode);
  }

  public String owner() {
    return owner;
  }

  public InvalidResourceException invalid(String field, String problem) {
    return new InvalidResourceException(owner, field, problem);
  }

  /**
   * Checks that {@code object} holds only {@code known} fields (APISIX's {@code
   * additionalProperties = false}). {@code prefix} is the object's path inside the resource, e.g.
   * {@code "upstream."}. Strict: the first unknown field is refused, with the closest known name
   * suggested; tolerant: each is recorded in {@link #ignoredFields()}.
   */
  public void onlyKnown(JsonNode object, String prefix, Set<String> known) {
    for (Map.Entry<String, JsonNode> entry : object.properties()) {
      String name = entry.getKey();
      if (!known.contains(name)) {
        if (mode == ParseMode.STRICT) {
          throw InvalidResourceException.unknownField(
              owner, prefix + name, Suggestions.didYouMean(name, known));
        }
        ignored.add(prefix + name);
      }
    }
  }

  /**
   * Fields APISIX allows that Ballast cannot honour without serving something other than what the
   * resource says (field name to the reason). Strict: refused with the reason; tolerant: recorded
   * in {@link #ignoredFields()}, so data an older Ballast stored is read as it was then.
   */
  public void unsupported(JsonNode object, String prefix, Map<String, String> reasons) {
    for (Map.Entry<String, JsonNode> entry : object.properties()) {
      String reason = reasons.get(entry.getKey());
      if (reason != null) {
        unsupported(prefix + entry.getKey(), reason);
      }
    }
  }

  /** One field Ballast cannot honour; see {@link #unsupported(JsonNode, String, Map)}. */
  public void unsupported(String field, String reason) {
    if (mode == ParseMode.STRICT) {
      throw invalid(field, "is not supported by Ballast: " + reason);
    }
    ignored.add(field);
  }

  /** The paths of the fields a tolerant read kept but ignored; empty for a strict one. */
  public List<String> ignoredFields() {
    return List.copyOf(ignored);
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

  /** An array of strings. */
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

  /** A string, or {@code null} when absent. */
  public String optionalString(JsonNode node, String field) {
    return present(node) ? string(node, field) : null;
  }

  /** An integer in [min, max], or {@code dflt} when absent. */
  public int integer(JsonNode node, String field, int min, int max, int dflt) {
    return present(node) ? integer(node, field, min, max) : dflt;
  }

  /**
   * A reference to another resource ({@code upstream_id}, …): APISIX takes ids as strings or
   * integers; {@code null} when absent (a JSON null is refused).
   */
  public String reference(JsonNode node, String field) {
    if (node == null) {
      return null;
    }
    if (!(node.isString() || node.isIntegralNumber()) || !ID.matcher(node.asString()).matches()) {
      throw invalid(field, "must be a resource id (a string or an integer)");
    }
    return node.asString();
  }

  /** A positive number of seconds, at least a millisecond; {@code dflt} when absent. */
  public Duration positiveSeconds(JsonNode node, String field, Duration dflt) {
    if (!present(node)) {
      return dflt;
    }
    if (!node.isNumber() || !(node.doubleValue() > 0) || Double.isInfinite(node.doubleValue())) {
      throw invalid(field, "must be a positive number of seconds");
    }
    return Duration.ofNanos(Math.max(1_000_000L, Math.round(node.doubleValue() * 1_000_000_000d)));
  }

  /** A number of seconds, 0 or more; {@code dflt} when absent. */
  public Duration nonNegativeSeconds(JsonNode node, String field, Duration dflt) {
    if (!present(node)) {
      return dflt;
    }
    if (!node.isNumber() || !(node.doubleValue() >= 0) || Double.isInfinite(node.doubleValue())) {
      throw invalid(field, "must be a number of seconds, 0 or more");
    }
    return Duration.ofNanos(Math.round(node.doubleValue() * 1_000_000_000d));
  }

  /** An array with at least one element. */
  public JsonNode nonEmptyArray(JsonNode node, String field) {
    if (!node.isArray()) {
      throw invalid(field, "must be an array");
    }
    if (node.isEmpty()) {
      throw invalid(field, "must not be empty");
    }
    return node;
  }

  /** A resource's optional {@code name}: a string of at most 256 characters. */
  public String name(JsonNode resource) {
    JsonNode name = resource.get("name");
    if (name != null && !(name.isString() && name.stringValue().length() <= 256)) {
      throw invalid("name", "must be a string of at most 256 characters");
    }
    return name == null ? null : name.stringValue();
  }

  /** An optional {@code desc}: a string. */
  public String desc(JsonNode resource) {
    JsonNode desc = resource.get("desc");
    if (desc != null && !desc.isString()) {
      throw invalid("desc", "must be a string");
    }
    return desc == null ? null : desc.stringValue();
  }
}
