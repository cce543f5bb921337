package io.ballast.resource;

/**
 * A resource does not have the shape the gateway needs, or names a resource that does not exist.
 * The message reads {@code route '7': field 'upstream.nodes': must not be empty}.
 */
public class InvalidResourceException extends RuntimeException {

  private final ResourceType type;
  private final String id;
  private final String field;

  /**
   * @param field the dotted path of the offending field, or {@code null} when the problem is the
   *     resource as a whole
   */
  public InvalidResourceException(ResourceType type, String id, String field, String problem) {
    super(
        type.singular()
            + " '"
            + id
            + "': "
            + (field == null ? "" : "field '" + field + "': ")
            + problem);
    this.type = type;
    this.id = id;
    this.field = field;
  }

  public ResourceType type() {
    return type;
  }

  public String id() {
    return id;
  }

  /** The dotted path of the offending field, or {@code null} for the resource as a whole. */
  public String field() {
    return field;
  }
}
