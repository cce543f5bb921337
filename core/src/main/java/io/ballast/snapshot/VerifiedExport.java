package io.ballast.snapshot;

import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * Both parts of one export downloaded and checked (size and SHA-256) against the part manifests of
 * a {@link SignedExport} whose signature was checked first. The body files are immutable once
 * wrapped here; whoever holds this owns them.
 */
public record VerifiedExport(SignedExport signed, Map<SnapshotKind, VerifiedSnapshot> parts) {

  public VerifiedExport {
    Objects.requireNonNull(signed, "signed");
    EnumMap<SnapshotKind, VerifiedSnapshot> copy = new EnumMap<>(SnapshotKind.class);
    copy.putAll(parts);
    for (SnapshotKind kind : SnapshotKind.values()) {
      VerifiedSnapshot part = copy.get(kind);
      if (part == null || !part.manifest().equals(signed.manifest().part(kind))) {
        throw new IllegalArgumentException(
            "export " + signed.version() + ": the " + kind.id() + " part is not the one it names");
      }
    }
    parts = Map.copyOf(copy);
  }

  public ExportManifest manifest() {
    return signed.manifest();
  }

  public long version() {
    return signed.version();
  }

  public VerifiedSnapshot part(SnapshotKind kind) {
    return parts.get(kind);
  }
}
