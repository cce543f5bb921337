package io.ballast.snapshot;

import io.ballast.storage.ObjectKey;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the snapshots of one gateway group and kind live in a bucket: {@code
 * [prefix/]<group>/<kind>/latest.json} and {@code [prefix/]<group>/<kind>/snapshots/<version, 20
 * digits>.ndjson.gz}. Zero-padding makes key order version order, which is how listing finds the
 * oldest bodies.
 *
 * @param prefix a key prefix inside the bucket, or {@code null}/empty for none
 */
public record SnapshotLayout(String prefix, String gatewayGroup, SnapshotKind kind) {

  private static final Pattern BODY_NAME = Pattern.compile("(\\d{20})\\.ndjson\\.gz");

  public SnapshotLayout {
    Objects.requireNonNull(gatewayGroup, "gatewayGroup");
    Objects.requireNonNull(kind, "kind");
    prefix = prefix == null ? "" : prefix;
    if (gatewayGroup.isBlank() || gatewayGroup.contains("/")) {
      throw new IllegalArgumentException(
          "gateway group '" + gatewayGroup + "' must be one non-blank key segment (no '/')");
    }
    // Validates the prefix and group as key segments once, here.
    base(prefix, gatewayGroup, kind);
  }

  private static ObjectKey base(String prefix, String gatewayGroup, SnapshotKind kind) {
    String group = gatewayGroup + "/" + kind.id();
    return ObjectKey.of(prefix.isEmpty() ? group : prefix + "/" + group);
  }

  private ObjectKey base() {
    return base(prefix, gatewayGroup, kind);
  }

  /** The pointer: the manifest of the newest snapshot. */
  public ObjectKey latestKey() {
    return base().resolve("latest.json");
  }

  public ObjectKey snapshotsFolder() {
    return base().resolve("snapshots");
  }

  public ObjectKey bodyKey(long version) {
    if (version < 0) {
      throw new IllegalArgumentException("snapshot version " + version + " is negative");
    }
    return snapshotsFolder().resolve(String.format("%020d.ndjson.gz", version));
  }

  /** The version a body key of this layout names, or empty for any other key. */
  public OptionalLong versionOf(ObjectKey bodyKey) {
    String folder = snapshotsFolder().value() + "/";
    if (!bodyKey.value().startsWith(folder)) {
      return OptionalLong.empty();
    }
    Matcher name = BODY_NAME.matcher(bodyKey.value().substring(folder.length()));
    if (!name.matches()) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(name.group(1)));
    } catch (NumberFormatException e) {
      return OptionalLong.empty(); // 20 digits beyond Long.MAX_VALUE: not one of ours
    }
  }
}
