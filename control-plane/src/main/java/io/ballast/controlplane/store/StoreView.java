package io.ballast.controlplane.store;

import io.ballast.resource.ResourceType;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The store's content at one revision of one lineage. Immutable: writes made after it was taken
 * never show in it, so a snapshot exporter can iterate it while the store keeps changing, and reads
 * the revision and the lineage that belong together.
 */
public final class StoreView {

  private final long revision;
  private final String lineage;
  private final Map<ResourceType, NavigableMap<String, StoredResource>> byType;
  private final long shrinkConfirmedRevision;

  private StoreView(
      long revision,
      String lineage,
      Map<ResourceType, NavigableMap<String, StoredResource>> byType,
      long shrinkConfirmedRevision) {
    this.revision = revision;
    this.lineage = lineage;
    this.byType = byType;
    this.shrinkConfirmedRevision = shrinkConfirmedRevision;
  }

  static StoreView empty(String lineage) {
    Map<ResourceType, NavigableMap<String, StoredResource>> maps =
        new EnumMap<>(ResourceType.class);
    for (ResourceType type : ResourceType.values()) {
      maps.put(type, Collections.emptyNavigableMap());
    }
    return new StoreView(0, lineage, Collections.unmodifiableMap(maps), 0);
  }

  /** Freezes maps built while loading; the caller must not touch them afterwards. */
  static StoreView of(
      long revision,
      String lineage,
      Map<ResourceType, TreeMap<String, StoredResource>> maps,
      long shrinkConfirmedRevision) {
    Map<ResourceType, NavigableMap<String, StoredResource>> frozen =
        new EnumMap<>(ResourceType.class);
    for (ResourceType type : ResourceType.values()) {
      TreeMap<String, StoredResource> map = maps.getOrDefault(type, new TreeMap<>());
      frozen.put(type, Collections.unmodifiableNavigableMap(map));
    }
    return new StoreView(
        revision, lineage, Collections.unmodifiableMap(frozen), shrinkConfirmedRevision);
  }

  /** The revision of the last write this view contains; 0 for a store never written. */
  public long revision() {
    return revision;
  }

  /**
   * The newest revision whose write an operator confirmed as a large removal of routes (Admin API
   * {@code ?confirm_shrink=true}, or the confirmation on its own); 0 for none. An export at this
   * view's revision carries the confirmation when this is newer than the export it follows.
   */
  public long shrinkConfirmedRevision() {
    return shrinkConfirmedRevision;
  }

  /** Whether an operator confirmed a shrink after {@code previousVersion}, up to this revision. */
  public boolean shrinkConfirmedSince(long previousVersion) {
    return shrinkConfirmedRevision > 0 && shrinkConfirmedRevision > previousVersion;
  }

  /**
   * The store's lineage id (UUID text): created with the store, kept by its backups, taken over
   * from storage by an import. Revisions are comparable only within one lineage. {@code null} only
   * in a view read from a checkpoint written before lineages, until the store assigns one.
   */
  public String lineage() {
    return lineage;
  }

  /** The resources of one type, sorted by id. */
  public NavigableMap<String, StoredResource> resources(ResourceType type) {
    return byType.get(type);
  }

  public Optional<StoredResource> get(ResourceType type, String id) {
    return Optional.ofNullable(byType.get(type).get(id));
  }

  /** Every resource in snapshot order: by {@link ResourceType} declaration order, then by id. */
  public Stream<StoredResource> inCanonicalOrder() {
    return Arrays.stream(ResourceType.values()).flatMap(type -> byType.get(type).values().stream());
  }

  /** The number of resources of all types. */
  public int size() {
    return byType.values().stream().mapToInt(Map::size).sum();
  }

  /** A new view at {@code newRevision} with one resource put; only that type's map is copied. */
  StoreView with(StoredResource stored, long newRevision, boolean shrinkConfirmed) {
    ResourceType type = stored.resource().type();
    TreeMap<String, StoredResource> copy = new TreeMap<>(byType.get(type));
    copy.put(stored.resource().id(), stored);
    return replace(type, copy, newRevision, shrinkConfirmed);
  }

  /** A new view at {@code newRevision} with one resource removed. */
  StoreView without(ResourceType type, String id, long newRevision, boolean shrinkConfirmed) {
    TreeMap<String, StoredResource> copy = new TreeMap<>(byType.get(type));
    copy.remove(id);
    return replace(type, copy, newRevision, shrinkConfirmed);
  }

  /** The same resources at {@code newRevision}, which an operator confirmed as a shrink. */
  StoreView shrinkConfirmedAt(long newRevision) {
    return new StoreView(newRevision, lineage, byType, newRevision);
  }

  /** The same content at another revision of another (or the same) lineage. */
  StoreView relabelled(long newRevision, String newLineage) {
    return new StoreView(newRevision, newLineage, byType, shrinkConfirmedRevision);
  }

  /** The same resources at {@code newRevision}: a change outside the resources. */
  StoreView atRevision(long newRevision) {
    return new StoreView(newRevision, lineage, byType, shrinkConfirmedRevision);
  }

  private StoreView replace(
      ResourceType type,
      TreeMap<String, StoredResource> map,
      long newRevision,
      boolean shrinkConfirmed) {
    Map<ResourceType, NavigableMap<String, StoredResource>> maps = new EnumMap<>(byType);
    maps.put(type, Collections.unmodifiableNavigableMap(map));
    return new StoreView(
        newRevision,
        lineage,
        Collections.unmodifiableMap(maps),
        shrinkConfirmed ? newRevision : shrinkConfirmedRevision);
  }
}
