package io.ballast.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.storage.ObjectKey;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class SnapshotLayoutTest {

  private static final String SHA = "0123456789abcdef".repeat(4);

  @Test
  void keysWithAndWithoutPrefix() {
    SnapshotLayout plain = new SnapshotLayout(null, "default", SnapshotKind.RESOURCES);
    SnapshotLayout prefixed = new SnapshotLayout("ballast/prod", "g1", SnapshotKind.INSTANCE);

    assertThat(plain.latestKey()).isEqualTo(ObjectKey.of("default/resources/latest.json"));
    assertThat(plain.bodyKey(42, SHA))
        .isEqualTo(
            ObjectKey.of("default/resources/snapshots/00000000000000000042-" + SHA + ".ndjson.gz"));
    assertThat(prefixed.latestKey())
        .isEqualTo(ObjectKey.of("ballast/prod/g1/instance/latest.json"));
    assertThat(prefixed.snapshotsFolder())
        .isEqualTo(ObjectKey.of("ballast/prod/g1/instance/snapshots"));
  }

  @Test
  void versionOfReadsOnlyThisLayoutsBodyKeys() {
    SnapshotLayout layout = new SnapshotLayout("", "default", SnapshotKind.RESOURCES);

    assertThat(layout.versionOf(layout.bodyKey(7, SHA))).isEqualTo(OptionalLong.of(7));
    assertThat(layout.versionOf(layout.bodyKey(Long.MAX_VALUE, SHA)))
        .isEqualTo(OptionalLong.of(Long.MAX_VALUE));
    // Bodies named by version only, by earlier builds, are still found (and so pruned).
    assertThat(
            layout.versionOf(
                ObjectKey.of("default/resources/snapshots/00000000000000000007.ndjson.gz")))
        .isEqualTo(OptionalLong.of(7));
    assertThat(layout.versionOf(layout.latestKey())).isEmpty();
    assertThat(layout.versionOf(ObjectKey.of("default/resources/snapshots/7.ndjson.gz"))).isEmpty();
    assertThat(
            layout.versionOf(
                ObjectKey.of("default/resources/snapshots/00000000000000000007-abc.ndjson.gz")))
        .isEmpty();
    assertThat(
            layout.versionOf(
                ObjectKey.of("default/resources/snapshots/99999999999999999999.ndjson.gz")))
        .isEmpty();
    assertThat(
            new SnapshotLayout("", "other", SnapshotKind.RESOURCES)
                .versionOf(layout.bodyKey(7, SHA)))
        .isEmpty();
  }

  @Test
  void aPointerMayNameTheContentNamedKeyOrTheVersionOnlyKeyOfEarlierBuilds() {
    SnapshotLayout layout = new SnapshotLayout("", "default", SnapshotKind.RESOURCES);

    assertThat(layout.isBodyKey(layout.bodyKey(7, SHA).value(), 7, SHA)).isTrue();
    assertThat(
            layout.isBodyKey("default/resources/snapshots/00000000000000000007.ndjson.gz", 7, SHA))
        .isTrue();
    assertThat(layout.isBodyKey(layout.bodyKey(7, SHA).value(), 8, SHA)).isFalse();
    assertThat(layout.isBodyKey(layout.bodyKey(7, SHA).value(), 7, "f".repeat(64))).isFalse();
    assertThat(layout.isBodyKey("default/resources/snapshots/x.ndjson.gz", 7, SHA)).isFalse();
  }

  @Test
  void refusesGroupsAndPrefixesThatAreNoKeySegments() {
    assertThatThrownBy(() -> new SnapshotLayout(null, "a/b", SnapshotKind.RESOURCES))
        .hasMessageContaining("gateway group 'a/b'");
    assertThatThrownBy(() -> new SnapshotLayout("/x", "g", SnapshotKind.RESOURCES))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new SnapshotLayout(null, "g", SnapshotKind.RESOURCES).bodyKey(-1, SHA))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> new SnapshotLayout(null, "g", SnapshotKind.RESOURCES).bodyKey(1, "ABC"))
        .hasMessageContaining("'ABC' is no SHA-256");
  }
}
