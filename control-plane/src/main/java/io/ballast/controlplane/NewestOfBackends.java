package io.ballast.controlplane;

import io.ballast.resource.ResourceSet;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Storage's newest export across redundant backends ({@code fallback_cp.backends}): the highest
 * version any readable backend's pointer names. A backend that cannot be read is left out while
 * another answers, so that one storage down does not hold up a control plane's start; only when
 * none answers is storage unreadable. The resources are read from a backend whose pointer names
 * that export.
 */
public final class NewestOfBackends implements StorageExports {

  private final List<StorageExports> backends;

  public NewestOfBackends(List<StorageExports> backends) {
    if (backends.isEmpty()) {
      throw new IllegalArgumentException("no storage backend");
    }
    this.backends = List.copyOf(backends);
  }

  @Override
  public Optional<ExportPointer> newest() {
    return newestByBackend().values().stream()
        .flatMap(Optional::stream)
        .max(Comparator.comparingLong(ExportPointer::version));
  }

  @Override
  public ResourceSet resources(ExportPointer pointer) {
    RuntimeException last = null;
    for (StorageExports backend : backends) {
      try {
        if (backend.newest().filter(pointer::equals).isPresent()) {
          return backend.resources(pointer);
        }
      } catch (RuntimeException e) {
        last = e;
      }
    }
    throw last != null
        ? last
        : new IllegalStateException("no storage backend names export " + pointer + " any more");
  }

  /** Each readable backend's newest; throws only when no backend can be read. */
  private Map<StorageExports, Optional<ExportPointer>> newestByBackend() {
    Map<StorageExports, Optional<ExportPointer>> answers = new java.util.LinkedHashMap<>();
    List<String> failures = new ArrayList<>();
    for (StorageExports backend : backends) {
      try {
        answers.put(backend, backend.newest());
      } catch (RuntimeException e) {
        failures.add(e.getMessage());
      }
    }
    if (answers.isEmpty()) {
      throw new IllegalStateException(
          "no storage backend can be read: " + String.join("; ", failures));
    }
    return answers;
  }
}
