package io.ballast.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.controlplane.store.ConfigStore;
import io.ballast.resource.Json;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SnapshotEntry;
import io.ballast.snapshot.SnapshotFiles;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotSigner;
import io.ballast.snapshot.VerifiedExport;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotBuilderTest {

  @TempDir Path dir;
  private final SnapshotSigner signer = TestBuilders.signer();

  private static List<SnapshotEntry> plugins(String... names) {
    return List.of(
        new SnapshotEntry("settings", "plugins", Json.mapper().valueToTree(List.of(names))));
  }

  @Test
  void buildsOneSignedExportOfBothPartsPerRevision() throws Exception {
    try (ConfigStore store = ConfigStore.open(dir.resolve("store"));
        SnapshotBuilder builder = TestBuilders.builder(store, dir.resolve("work"), signer)) {
      builder.start(plugins("cors"));
      VerifiedExport first = TestBuilders.awaitVersion(builder, 0);

      TestBuilders.writeUpstream(store, "u1");
      VerifiedExport second = TestBuilders.awaitVersion(builder, 1);

      ExportManifest manifest = second.manifest();
      assertThat(manifest.previousVersion()).isEqualTo(0);
      assertThat(first.manifest().previousVersion()).isEqualTo(ExportManifest.NO_PREVIOUS);
      assertThat(manifest.lineage()).isEqualTo(TestBuilders.LINEAGE);
      assertThat(manifest.shrinkConfirmed()).isFalse();
      assertThat(manifest.part(SnapshotKind.INSTANCE).version()).isEqualTo(1);
      assertThat(manifest.part(SnapshotKind.RESOURCES).counts()).containsEntry("upstreams", 1L);
      assertThat(manifest.expiresAt())
          .isEqualTo(manifest.signedAt().plus(TestBuilders.EXPIRE_AFTER));
      for (SnapshotKind kind : SnapshotKind.values()) {
        SnapshotFiles.verify(second.part(kind).body(), manifest.part(kind));
      }
      assertThat(
              SignatureVerifier.trusting(List.of(signer.publicKey()))
                  .verify(second.signed().json())
                  .manifest())
          .isEqualTo(manifest);
      assertThat(builder.kept(0)).contains(first);
    }
  }

  @Test
  void otherInstanceSettingsAfterARestartGetAHigherVersion() throws Exception {
    Path work = dir.resolve("work");
    try (ConfigStore store = ConfigStore.open(dir.resolve("store"));
        SnapshotBuilder builder = TestBuilders.builder(store, work, signer)) {
      builder.start(plugins("cors"));
      TestBuilders.writeUpstream(store, "u1");
      TestBuilders.awaitVersion(builder, 1);
    }
    // The same file again: the same version, nothing to tell apart.
    try (ConfigStore store = ConfigStore.open(dir.resolve("store"));
        SnapshotBuilder builder = TestBuilders.builder(store, work, signer)) {
      builder.start(plugins("cors"));
      TestBuilders.awaitVersion(builder, 1);
    }
    // Another file: the store moves one revision, so the new settings are a new export.
    try (ConfigStore store = ConfigStore.open(dir.resolve("store"));
        SnapshotBuilder builder = TestBuilders.builder(store, work, signer)) {
      builder.start(plugins("cors", "key-auth"));
      VerifiedExport export = TestBuilders.awaitVersion(builder, 2);
      assertThat(export.manifest().part(SnapshotKind.RESOURCES).counts())
          .containsEntry("upstreams", 1L);
      assertThat(store.revision()).isEqualTo(2);
    }
  }
}
