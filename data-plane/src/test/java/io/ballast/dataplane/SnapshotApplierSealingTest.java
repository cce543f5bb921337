package io.ballast.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.dataplane.SnapshotApplier.Source;
import io.ballast.gateway.plugin.PluginRegistry;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import io.ballast.seal.Keyring;
import io.ballast.seal.Sealing;
import io.ballast.snapshot.VerifiedExport;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A DP opens sealed secrets with its own keyring, and refuses what it cannot open. */
class SnapshotApplierSealingTest {

  private static final Keyring CP_KEYRING = Keyring.of(List.of("cp-and-dp-keyring-01"));
  private static final Resource ALICE =
      Snapshots.resource(
          ResourceType.CONSUMERS,
          "alice",
          "{\"plugins\":{\"key-auth\":{\"key\":\"alice-key-123\"}}}");

  @TempDir Path dir;

  private SnapshotApplier applier(Sealing sealing) {
    return new SnapshotApplier(
        new LocalCache(dir.resolve("cache")),
        Clock.systemUTC(),
        PluginRegistry.standard(),
        sealing);
  }

  private VerifiedExport snapshot(long version, Resource consumer) {
    ResourceSet.Builder set = ResourceSet.builder().add(consumer);
    Snapshots.routeTo("/ip").inCanonicalOrder().forEach(set::add);
    return Snapshots.resources(dir, version, set.build());
  }

  private static Resource sealed(Keyring keyring) {
    return Sealing.with(keyring, true).forStore(ALICE);
  }

  @Test
  void theRightKeyringOpensASealedSnapshot() {
    SnapshotApplier applier = applier(Sealing.with(CP_KEYRING, true));

    assertThat(applier.apply(snapshot(1, sealed(CP_KEYRING)), Source.STORAGE, Optional.empty()))
        .isTrue();
    assertThat(applier.version()).isEqualTo(1);
  }

  @Test
  void aRotatedKeyringStillOpensWhatTheOldEntrySealed() {
    Keyring rotated = Keyring.of(List.of("rotated-in-entry-001", "cp-and-dp-keyring-01"));
    SnapshotApplier applier = applier(Sealing.with(rotated, true));

    assertThat(applier.apply(snapshot(1, sealed(CP_KEYRING)), Source.STORAGE, Optional.empty()))
        .isTrue();
    assertThat(applier.apply(snapshot(2, sealed(rotated)), Source.STORAGE, Optional.empty()))
        .isTrue();
  }

  @Test
  void aWrongOrMissingKeyringRefusesTheSnapshotNamingTheConsumer() {
    SnapshotApplier wrong =
        applier(Sealing.with(Keyring.of(List.of("not-the-cp-keyring-1")), true));
    SnapshotApplier none = applier(Sealing.off());

    assertThat(wrong.apply(snapshot(1, sealed(CP_KEYRING)), Source.STORAGE, Optional.empty()))
        .isFalse();
    assertThat(none.apply(snapshot(1, sealed(CP_KEYRING)), Source.CACHE, Optional.empty()))
        .isFalse();

    assertThat(wrong.version()).isEqualTo(SnapshotApplier.NONE);
    assertThat(wrong.lastRejection().orElseThrow().reason())
        .isEqualTo(
            "consumer 'alice': plugins.key-auth.key: is sealed with a key that no entry of"
                + " apisix.data_encryption.keyring opens");
    assertThat(none.lastRejection().orElseThrow().reason())
        .contains("consumer 'alice': plugins.key-auth.key")
        .contains("no apisix.data_encryption.keyring");
  }

  @Test
  void aRefusedSnapshotLeavesTheServedOneInPlace() {
    SnapshotApplier applier = applier(Sealing.with(CP_KEYRING, true));
    applier.apply(snapshot(1, sealed(CP_KEYRING)), Source.CONTROL_PLANE, Optional.empty());

    Resource foreign = sealed(Keyring.of(List.of("another-cp-keyring-1")));
    assertThat(applier.apply(snapshot(2, foreign), Source.CONTROL_PLANE, Optional.empty()))
        .isFalse();

    assertThat(applier.version()).isEqualTo(1);
    assertThat(applier.table().match("GET", "h", "/ip")).isPresent();
  }

  @Test
  void plainValuesAreTakenAsTheyAre() {
    // What a CP with sealing off, a store from before sealing or a standalone file ships.
    assertThat(
            applier(Sealing.with(CP_KEYRING, true))
                .apply(snapshot(1, ALICE), Source.STORAGE, Optional.empty()))
        .isTrue();
    assertThat(applier(Sealing.off()).apply(snapshot(2, ALICE), Source.STORAGE, Optional.empty()))
        .isTrue();
  }
}
