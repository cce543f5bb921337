package io.ballast.resource;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One line for the fields a {@link ParseMode#TOLERANT} read ignored across many resources, so that
 * a store replay or a snapshot apply warns once, not once per resource.
 */
public final class IgnoredFields {

  /** Resources named in the line; the rest are counted. */
  private static final int LISTED = 10;

  private IgnoredFields() {}

  /**
   * {@code "route '2': method; upstream 'u': tpye, checks.active.htpp_path"} (then {@code "; and 3
   * more resources"}), or empty when no resource ignored a field.
   */
  public static Optional<String> describe(Iterable<Resource> resources) {
    List<String> named = new ArrayList<>();
    int count = 0;
    for (Resource resource : resources) {
      if (resource.ignoredFields().isEmpty()) {
        continue;
      }
      if (++count <= LISTED) {
        named.add(resource.owner() + ": " + String.join(", ", resource.ignoredFields()));
      }
    }
    if (count == 0) {
      return Optional.empty();
    }
    String more = count > LISTED ? "; and " + (count - LISTED) + " more resources" : "";
    return Optional.of(String.join("; ", named) + more);
  }
}
