package io.ballast.resource;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One resource exactly as the user wrote it, in APISIX's JSON shape, and what Ballast reads of it
 * ({@link #spec()}). Fields APISIX's schema allows but Ballast does not read ({@code labels}, …)
 * stay in {@link #value()}, so that a configuration round-trips unchanged; fields it does not allow
 * are refused or, read tolerantly, kept and listed in {@link #ignoredFields()} (see {@link
 * ParseMode}). {@code value} carries the {@code id} (or, for consumers, the {@code username}) equal
 * to {@code id}.
 *
 * <p>Built only by {@link #parse}, so every resource has passed the same checks, wherever it came
 * from (the Admin API, a snapshot, the standalone file, the store's log). Treat {@code value} as
 * immutable: snapshots and routers share it.
 */
public final class Resource {

  private static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9_-]+");

  private final ResourceType type;
  private final String id;
  private final ObjectNode value;
  private final ResourceSpec spec;
  private final List<String> ignoredFields;

  private Resource(
      ResourceType type, String id, ObjectNode value, ResourceSpec spec, List<String> ignored) {
    this.type = type;
    this.id = id;
    this.value = value;
    this.spec = spec;
    this.ignoredFields = ignored;
  }

  /**
   * Reads {@code value} strictly, as the Admin API and the standalone file do: see {@link
   * #parse(ResourceType, String, JsonNode, ParseMode)}.
   */
  public static Resource parse(ResourceType type, String id, JsonNode value) {
    return parse(type, id, value, ParseMode.STRICT);
  }

  /**
   * Reads {@code value} as a resource of {@code type} named {@code id}: the one reading of APISIX's
   * shapes. The fields Ballast reads are checked; a field APISIX's schema does not allow, or one
   * Ballast cannot honour, is refused or ignored as {@code mode} says.
   *
   * @return a resource whose value is a copy of {@code value} with its id field set to {@code id}
   * @throws InvalidResourceException naming the type, id and field at fault
   */
  public static Resource parse(ResourceType type, String id, JsonNode value, ParseMode mode) {
    Objects.requireNonNull(mode, "mode");
    Fields fields = new Fields(type, id == null ? "" : id, mode);
    String idField = type.idField();
    if (id == null) {
      throw fields.invalid(idField, "is missing");
    }
    boolean consumer = type == ResourceType.CONSUMERS;
    if (!(consumer ? USERNAME : Fields.ID).matcher(id).matches()) {
      throw fields.invalid(
          idField,
          consumer
              ? "must be letters, digits, '_' or '-'"
              : "must be 1 to 64 letters, digits, '_', '.' or '-'");
    }
    if (value == null || !value.isObject()) {
      throw fields.invalid(null, "must be a JSON object");
    }
    ObjectNode copy = ((ObjectNode) value).deepCopy();
    JsonNode given = copy.get(idField);
    if (given != null && !given.isNull()) {
      boolean same = (given.isString() || given.isIntegralNumber()) && given.asString().equals(id);
      if (!same) {
        throw fields.invalid(idField, "'" + given.asString() + "' differs from the resource id");
      }
    }
    copy.put(idField, id);
    ResourceSpec spec =
        switch (type) {
          case ROUTES -> RouteSpec.parse(copy, fields);
          case SERVICES -> ServiceSpec.parse(copy, fields);
          case UPSTREAMS -> UpstreamSpec.parse(copy, fields, "");
          case CONSUMERS -> ConsumerSpec.parse(id, copy, fields);
          case SSLS -> SslSpec.parse(copy, fields);
          case PLUGIN_CONFIGS -> PluginConfigSpec.parse(copy, fields);
          case GLOBAL_RULES -> GlobalRuleSpec.parse(copy, fields);
          case PLUGIN_METADATA -> new PluginMetadataSpec(id, copy);
        };
    return new Resource(type, id, copy, spec, fields.ignoredFields());
  }

  public ResourceType type() {
    return type;
  }

  public String id() {
    return id;
  }

  /** The resource as written (with its id field set). */
  public ObjectNode value() {
    return value;
  }

  /**
   * The paths of fields a {@link ParseMode#TOLERANT} read kept as written but ignored, e.g. {@code
   * upstream.tpye}; empty when read strictly.
   */
  public List<String> ignoredFields() {
    return ignoredFields;
  }

  /** What Ballast reads of it; its class follows {@link #type()}. */
  public ResourceSpec spec() {
    return spec;
  }

  /** {@link #spec()} as the class {@code kind} of this resource's type. */
  public <T extends ResourceSpec> T spec(Class<T> kind) {
    return kind.cast(spec);
  }

  /** How messages name this resource, e.g. {@code route '7'}. */
  public String owner() {
    return InvalidResourceException.ownerOf(type, id);
  }

  /** Equal when written the same: the spec follows from the value. */
  @Override
  public boolean equals(Object other) {
    return other instanceof Resource that
        && type == that.type
        && id.equals(that.id)
        && value.equals(that.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(type, id, value);
  }

  @Override
  public String toString() {
    return owner();
  }
}
