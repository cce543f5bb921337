package io.ballast.resource;

/**
 * A resource does not have the shape the gateway needs, or names a resource that does not exist.
 * The message names the resource, the path of the field and the problem: {@code route '7':
 * upstream.nodes: must not be empty}.
 */
public class InvalidResourceException extends IllegalArgumentException {

  private final String owner;
  private final String field;

  /**
   * @param owner how the message names the resource, e.g. {@code route '7'}
   * @param field the path of the offending field, or {@code null} when the problem is the resource
   *     as a whole
   */
  public InvalidResourceException(String owner, String field, String problem) {
    this(owner, field, problem, owner + ": " + (field == null ? "" : field + ": ") + problem);
  }

  private InvalidResourceException(String owner, String field, String problem, String message) {
    super(message);
    this.owner = owner;
    this.field = field;
  }

  /**
   * A field the resource's schema does not allow, worded as APISIX users read it: {@code route '1':
   * unknown field 'method'; did you mean 'methods'?}.
   *
   * @param suggestion {@code "; did you mean 'x'?"} or empty
   */
  public static InvalidResourceException unknownField(
      String owner, String field, String suggestion) {
    return new InvalidResourceException(
        owner,
        field,
        "unknown field" + suggestion,
        owner + ": unknown field '" + field + "'" + suggestion);
  }

  public InvalidResourceException(ResourceType type, String id, String field, String problem) {
    this(ownerOf(type, id), field, problem);
  }

  /** How messages name a resource: {@code route '7'}. */
  public static String ownerOf(ResourceType type, String id) {
    return type.singular() + " '" + id + "'";
  }

  /** How the message names the resource, e.g. {@code route '7'}. */
  public String owner() {
    return owner;
  }

  /** The path of the offending field, or {@code null} for the resource as a whole. */
  public String field() {
    return field;
  }
}
