package io.ballast.snapshot;

import io.ballast.storage.ObjectKey;
import java.util.Objects;

/**
 * Where the exports of one gateway group live: the pointer {@code [prefix/]<group>/latest.json} in
 * {@code resource_bucket}, and each part's bodies where {@link SnapshotLayout} puts them ({@code
 * resources} in {@code resource_bucket}, {@code instance} in {@code config_bucket}). Format-1
 * per-kind pointers ({@code <group>/<kind>/latest.json}) are not read.
 *
 * @param prefix a key prefix inside both buckets, or {@code null}/empty for none
 */
public record ExportLayout(String prefix, String gatewayGroup) {

  public ExportLayout {
    Objects.requireNonNull(gatewayGroup, "gatewayGroup");
    prefix = prefix == null ? "" : prefix;
    // Validates prefix and group as key segments once, here.
    part(prefix, gatewayGroup, SnapshotKind.RESOURCES);
  }

  private static SnapshotLayout part(String prefix, String group, SnapshotKind kind) {
    return new SnapshotLayout(prefix, group, kind);
  }

  /** The pointer: the signed manifest of the newest export. */
  public ObjectKey latestKey() {
    String key = gatewayGroup + "/latest.json";
    return ObjectKey.of(prefix.isEmpty() ? key : prefix + "/" + key);
  }

  /** Where {@code kind}'s bodies live. */
  public SnapshotLayout part(SnapshotKind kind) {
    return part(prefix, gatewayGroup, kind);
  }

  public ObjectKey bodyKey(SnapshotKind kind, long version, String sha256Hex) {
    return part(kind).bodyKey(version, sha256Hex);
  }
}
