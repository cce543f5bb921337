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
 * The store's content at one revision. Immutable: writes made after it was taken never show in it,
 * so a snapshot exporter can iterate it while the store keeps changing.
 */
public final class StoreView {

  private final long revision;
  private final Map<ResourceType, NavigableMap<String, StoredResource>> byType;

  private StoreView(long revision, Map<ResourceType, NavigableMap<String, StoredResource>> byType) {
    this.revision = revision;
    this.byType = byType;
  }

  static StoreView empty() {
    Map<ResourceType, NavigableMap<String, StoredResource>> maps =
        new EnumMap<>(ResourceType.class);
    for (ResourceType type : ResourceType.values()) {
      maps.put(type, Collections.emptyNavigableMap());
    }
    return new StoreView(0, Collections.unmodifiableMap(maps));
  }

  /** Freezes maps built while loading; the caller must not touch them afterwards. */
  static StoreView of(long revision, Map<ResourceType, TreeMap<String, StoredResource>> maps) {
    Map<ResourceType, NavigableMap<String, StoredResource>> frozen =
        new EnumMap<>(ResourceType.class);
    for (ResourceType type : ResourceType.values()) {
      TreeMap<String, StoredResource> map = maps.getOrDefault(type, new TreeMap<>());
      frozen.put(type, Collections.unmodifiableNavigableMap(map));
    }
    return new StoreView(revision, Collections.unmodifiableMap(frozen));
  }

  /** The revision of the last write this view contains; 0 for a store never written. */
  public long revision() {
    return revision;
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
  StoreView with(StoredResource stored, long newRevision) {
    ResourceType type = stored.resource().type();
    TreeMap<String, StoredResource> copy = new TreeMap<>(byType.get(type));
    copy.put(stored.resource().id(), stored);
    return replace(type, copy, newRevision);
  }

  /** A new view at {@code newRevision} with one resource removed. */
  StoreView without(ResourceType type, String id, long newRevision) {
    TreeMap<String, StoredResource> copy = new TreeMap<>(byType.get(type));
    copy.remove(id);
    return replace(type, copy, newRevision);
  }

  /** The same resources at {@code newRevision}: a change outside the resources. */
  StoreView atRevision(long newRevision) {
    return new StoreView(newRevision, byType);
  }

  private StoreView replace(
      ResourceType type, TreeMap<String, StoredResource> map, long newRevision) {
    Map<ResourceType, NavigableMap<String, StoredResource>> maps = new EnumMap<>(byType);
    maps.put(type, Collections.unmodifiableNavigableMap(map));
    return new StoreView(newRevision, Collections.unmodifiableMap(maps));
  }
}
