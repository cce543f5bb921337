package io.ballast.snapshot;

import io.ballast.storage.ObjectKey;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the snapshots of one gateway group and kind live in a bucket: {@code
 * [prefix/]<group>/<kind>/latest.json} and {@code [prefix/]<group>/<kind>/snapshots/<version, 20
 * digits>-<SHA-256 of the body>.ndjson.gz}. Zero-padding makes key order version order, which is
 * how listing finds the oldest bodies. The SHA-256 in the name keeps two exporters' different
 * bodies of one version apart: two control planes whose stores both start empty (different
 * lineages) or replicas that built one version differently each store their own body, and neither
 * is stuck on a key the other took. Builds before that named bodies by version only ({@code
 * <version>.ndjson.gz}); such keys are still read and pruned.
 *
 * @param prefix a key prefix inside the bucket, or {@code null}/empty for none
 */
public record SnapshotLayout(String prefix, String gatewayGroup, SnapshotKind kind) {

  private static final Pattern BODY_NAME =
      Pattern.compile("(\\d{20})(?:-[0-9a-f]{64})?\\.ndjson\\.gz");

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

  /** Where the body of {@code version} whose SHA-256 is {@code sha256Hex} is stored. */
  public ObjectKey bodyKey(long version, String sha256Hex) {
    if (version < 0) {
      throw new IllegalArgumentException("snapshot version " + version + " is negative");
    }
    if (!SnapshotManifest.SHA256_HEX.matcher(sha256Hex).matches()) {
      throw new IllegalArgumentException(
          "'" + sha256Hex + "' is no SHA-256 in lower-case hex (64 digits)");
    }
    return snapshotsFolder().resolve(String.format("%020d-%s.ndjson.gz", version, sha256Hex));
  }

  /**
   * Whether {@code key} is where this layout keeps the body of {@code version} with SHA-256 {@code
   * sha256Hex}: its {@link #bodyKey} or, written by an earlier build, the version-only key.
   */
  public boolean isBodyKey(String key, long version, String sha256Hex) {
    return key.equals(bodyKey(version, sha256Hex).value())
        || key.equals(snapshotsFolder().resolve(String.format("%020d.ndjson.gz", version)).value());
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
