package io.ballast.resource;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A complete, validated gateway configuration: every resource checked on its own and every
 * reference between resources resolved. Immutable once built.
 */
public final class ResourceSet {

  private static final ResourceSet EMPTY = builder().build();

  private final Map<ResourceType, SortedMap<String, Resource>> byType;

  private ResourceSet(Map<ResourceType, SortedMap<String, Resource>> byType) {
    this.byType = byType;
  }

  public static ResourceSet empty() {
    return EMPTY;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The resources of one type, sorted by id. */
  public Map<String, Resource> of(ResourceType type) {
    return byType.get(type);
  }

  public Optional<Resource> get(ResourceType type, String id) {
    return Optional.ofNullable(byType.get(type).get(id));
  }

  /** How many resources of each type, every type present (zero included). */
  public Map<ResourceType, Integer> counts() {
    Map<ResourceType, Integer> counts = new EnumMap<>(ResourceType.class);
    byType.forEach((type, resources) -> counts.put(type, resources.size()));
    return Collections.unmodifiableMap(counts);
  }

  public int size() {
    return byType.values().stream().mapToInt(Map::size).sum();
  }

  /** Every resource in snapshot order: by {@link ResourceType} declaration order, then by id. */
  public Stream<Resource> inCanonicalOrder() {
    return byType.values().stream().flatMap(resources -> resources.values().stream());
  }

  @Override
  public String toString() {
    return "ResourceSet" + counts();
  }

  /** Collects resources; {@link #build()} checks the references between them. */
  public static final class Builder {

    private final Map<ResourceType, SortedMap<String, Resource>> byType =
        new EnumMap<>(ResourceType.class);

    private Builder() {
      for (ResourceType type : ResourceType.values()) {
        byType.put(type, new TreeMap<>());
      }
    }

    /** Adds a validated resource; a second resource of the same type and id is refused. */
    public Builder add(Resource resource) {
      Resource previous = byType.get(resource.type()).putIfAbsent(resource.id(), resource);
      if (previous != null) {
        throw new InvalidResourceException(
            resource.type(), resource.id(), resource.type().idField(), "is defined twice");
      }
      return this;
    }

    /**
     * @throws InvalidResourceException naming the referencing resource and field when a route or
     *     service refers to a resource that is not in the set
     */
    public ResourceSet build() {
      for (ResourceReference reference : ResourceReference.ALL) {
        for (Resource resource : byType.get(reference.from()).values()) {
          requireExists(resource, reference);
        }
      }
      Map<ResourceType, SortedMap<String, Resource>> copy = new EnumMap<>(ResourceType.class);
      byType.forEach(
          (type, resources) ->
              copy.put(type, Collections.unmodifiableSortedMap(new TreeMap<>(resources))));
      return new ResourceSet(Collections.unmodifiableMap(copy));
    }

    private void requireExists(Resource resource, ResourceReference reference) {
      reference
          .target(resource)
          .filter(targetId -> !byType.get(reference.to()).containsKey(targetId))
          .ifPresent(
              targetId -> {
                throw new InvalidResourceException(
                    resource.type(),
                    resource.id(),
                    reference.field(),
                    reference.to().singular() + " '" + targetId + "' does not exist");
              });
    }
  }
}
