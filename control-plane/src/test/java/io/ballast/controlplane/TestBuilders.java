package io.ballast.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.controlplane.store.ConfigStore;
import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.SigningKeys;
import io.ballast.snapshot.SnapshotSigner;
import io.ballast.snapshot.VerifiedExport;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/** Snapshot builders over a real store, for the control plane's tests. */
final class TestBuilders {

  static final String LINEAGE = "6f1c0a6e-2d4b-4e59-8c2a-0d9b3e7f5a10";
  static final Duration EXPIRE_AFTER = Duration.ofMinutes(15);

  private TestBuilders() {}

  static SnapshotBuilder builder(ConfigStore store, Path workDir, SnapshotSigner signer) {
    return new SnapshotBuilder(
        store,
        workDir,
        new ExportLayout("", "default"),
        "cp-test",
        () -> LINEAGE,
        signer,
        EXPIRE_AFTER,
        Clock.systemUTC());
  }

  static SnapshotSigner signer() {
    return new SnapshotSigner(SigningKeys.generate());
  }

  static void writeUpstream(ConfigStore store, String id) {
    store.put(
        Resource.parse(
            ResourceType.UPSTREAMS,
            id,
            Json.mapper().readTree("{\"nodes\":{\"127.0.0.1:1980\":1}}")));
  }

  static VerifiedExport awaitVersion(SnapshotBuilder builder, long version)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (builder.current().map(VerifiedExport::version).orElse(-1L) != version) {
      assertThat(System.nanoTime()).as("built version %d in time", version).isLessThan(deadline);
      Thread.sleep(10);
    }
    return builder.current().orElseThrow();
  }
}
