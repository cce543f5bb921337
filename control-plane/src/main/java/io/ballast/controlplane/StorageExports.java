package io.ballast.controlplane;

import io.ballast.resource.ResourceSet;
import java.util.Optional;

/**
 * What {@link LineageCheck} reads of storage: the newest export of the control plane's gateway
 * group. Blocking: the check runs once at start, or on its own retry thread.
 */
public interface StorageExports {

  /** The lineage and version an export pointer names. */
  record ExportPointer(String lineage, long version) {}

  /**
   * The newest export's lineage and version, or empty when storage holds no export for the group.
   *
   * @throws RuntimeException when storage cannot be read or its pointer cannot be trusted; the
   *     message says which storage and why
   */
  Optional<ExportPointer> newest();

  /**
   * The resources of the export {@code pointer} names, downloaded and verified against its
   * manifest.
   *
   * @throws RuntimeException as {@link #newest()}, or when the newest export is no longer the one
   *     {@code pointer} names
   */
  ResourceSet resources(ExportPointer pointer);
}
