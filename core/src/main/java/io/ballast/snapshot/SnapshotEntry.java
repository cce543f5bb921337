package io.ballast.snapshot;

import io.ballast.resource.ResourceType;
import java.util.Comparator;
import java.util.Objects;
import tools.jackson.databind.JsonNode;

/**
 * One line of a snapshot body: {@code {"type":"routes","id":"1","value":{...}}}.
 *
 * @param type the resource type name, e.g. {@code routes}; names that are no {@link ResourceType}
 *     (instance settings, kinds added later) are allowed
 */
public record SnapshotEntry(String type, String id, JsonNode value) {

  /**
   * The canonical order of a body: known resource types in {@link ResourceType} declaration order,
   * then other type names by string order; within a type, ids by string order.
   */
  public static final Comparator<SnapshotEntry> CANONICAL_ORDER =
      Comparator.comparingInt((SnapshotEntry e) -> typeRank(e.type()))
          .thenComparing(SnapshotEntry::type)
          .thenComparing(SnapshotEntry::id);

  private static final int UNKNOWN_TYPE_RANK = 100;

  public SnapshotEntry {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(value, "value");
  }

  private static int typeRank(String type) {
    return ResourceType.fromPlural(type).map(Enum::ordinal).orElse(UNKNOWN_TYPE_RANK);
  }

  @Override
  public String toString() {
    return type + "/'" + id + "'";
  }
}
