package io.ballast.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.config.CronSpec;
import io.ballast.controlplane.store.ConfigStore;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.ExportPublisher;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotSigner;
import io.ballast.storage.ETag;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.filesystem.FilesystemBackend;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StorageExporterTest {

  private static final ExportLayout LAYOUT = new ExportLayout("", "default");
  private static final Duration DEBOUNCE = Duration.ofMillis(300);

  @TempDir Path dir;
  private final SnapshotSigner signer = TestBuilders.signer();
  private Path storageRoot;
  private ConfigStore store;
  private SnapshotBuilder builder;
  private FilesystemBackend backend;
  private StorageExporter exporter;

  @BeforeEach
  void start() throws Exception {
    storageRoot = dir.resolve("storage");
    store = ConfigStore.open(dir.resolve("store"));
    builder = TestBuilders.builder(store, dir.resolve("snapshots"), signer);
    builder.start(List.of());
    TestBuilders.awaitVersion(builder, 0);
    Files.createDirectories(storageRoot.resolve("config"));
    Files.createDirectories(storageRoot.resolve("resources"));
    backend = new FilesystemBackend(storageRoot);
    exporter = exporter(target("fs", backend));
  }

  @AfterEach
  void stop() throws Exception {
    exporter.close();
    builder.close();
    store.close();
  }

  private StorageExporter exporter(StorageExporter.Target... targets) {
    return new StorageExporter(
        builder, List.of(targets), CronSpec.parse("@every 1h"), DEBOUNCE, Clock.systemUTC());
  }

  private StorageExporter.Target target(String name, FilesystemBackend storage) {
    return new StorageExporter.Target(
        name,
        new ExportPublisher(
            storage.bucket("resources"),
            storage.bucket("config"),
            LAYOUT,
            2,
            signer,
            TestBuilders.EXPIRE_AFTER,
            Clock.systemUTC()));
  }

  private void run(boolean resign) {
    exporter.runOnce(resign).block(Duration.ofSeconds(5));
  }

  /** The pointer's manifest in {@code storage}, its signature checked; null when none. */
  private static ExportManifest pointer(FilesystemBackend storage, SnapshotSigner signer) {
    ReadResult result =
        storage.bucket("resources").get(LAYOUT.latestKey(), ReadCondition.NONE).block();
    if (!(result instanceof ReadResult.Found found)) {
      return null;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    found
        .body()
        .doOnNext(
            buffer -> {
              byte[] chunk = new byte[buffer.remaining()];
              buffer.get(chunk);
              bytes.writeBytes(chunk);
            })
        .blockLast();
    return SignatureVerifier.trusting(List.of(signer.publicKey()))
        .verify(bytes.toByteArray())
        .manifest();
  }

  private ExportManifest pointer() {
    return pointer(backend, signer);
  }

  private ETag pointerEtag() {
    ObjectMeta meta = backend.bucket("resources").head(LAYOUT.latestKey()).block();
    return meta.etag();
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> backendStatus(int index) {
    return ((List<Map<String, Object>>) exporter.status().get("backends")).get(index);
  }

  private static void await(String what, Duration within, Supplier<Boolean> condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.get()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  @Test
  void exportsBothPartsAtOnceWhenStarted() throws Exception {
    exporter.start();

    await("exported at start", Duration.ofSeconds(2), () -> pointer() != null);

    ExportManifest manifest = pointer();
    assertThat(manifest.version()).isEqualTo(0);
    assertThat(manifest.routes()).isZero();
    assertThat(
            backend
                .bucket("config")
                .head(ObjectKey.of(manifest.part(SnapshotKind.INSTANCE).bodyKey()))
                .blockOptional())
        .isPresent();
    await("status", Duration.ofSeconds(1), () -> backendStatus(0).get("exported_version") != null);
    assertThat(backendStatus(0)).containsEntry("name", "fs").containsEntry("last_error", null);
  }

  @Test
  void aWriteReachesStorageWithinTheDebounceAndABurstEndsInOneExport() throws Exception {
    exporter.start();
    await("exported at start", Duration.ofSeconds(2), () -> pointer() != null);

    long written = System.nanoTime();
    for (int i = 1; i <= 5; i++) {
      TestBuilders.writeUpstream(store, "u" + i);
    }
    await(
        "the burst in storage within debounce + 1 s",
        DEBOUNCE.plusSeconds(1),
        () -> pointer().version() == 5);
    Duration took = Duration.ofNanos(System.nanoTime() - written);

    assertThat(took).isGreaterThanOrEqualTo(DEBOUNCE.minusMillis(50));
    assertThat(pointer().previousVersion()).isLessThan(5);
    assertThat(pointer().part(SnapshotKind.RESOURCES).counts()).containsEntry("upstreams", 5L);
  }

  @Test
  void aTickReSignsThePointerWhenNothingChanged() throws Exception {
    TestBuilders.writeUpstream(store, "u1");
    TestBuilders.awaitVersion(builder, 1);
    run(false);
    ETag first = pointerEtag();
    ExportManifest before = pointer();

    run(false);
    assertThat(pointerEtag()).as("a change run with nothing new writes nothing").isEqualTo(first);

    Thread.sleep(5);
    run(true);

    ExportManifest after = pointer();
    assertThat(pointerEtag()).isNotEqualTo(first);
    assertThat(after.version()).isEqualTo(1);
    assertThat(after.signedAt()).isAfter(before.signedAt());
    assertThat(after.expiresAt()).isEqualTo(after.signedAt().plus(TestBuilders.EXPIRE_AFTER));
    assertThat(after.createdAt()).isEqualTo(before.createdAt());
    assertThat(backendStatus(0)).containsEntry("signed_until", after.expiresAt().toString());
  }

  @Test
  void oneBackendFailingDoesNotStopTheOthers() throws Exception {
    // Its folder is missing (an unmounted volume): its buckets are reported, never created.
    Path brokenRoot = dir.resolve("broken");
    exporter = exporter(target("broken", new FilesystemBackend(brokenRoot)), target("fs", backend));
    TestBuilders.writeUpstream(store, "u1");
    TestBuilders.awaitVersion(builder, 1);

    run(false);

    assertThat(pointer().version()).isEqualTo(1);
    assertThat((String) backendStatus(0).get("last_error")).contains("does not exist");
    assertThat(backendStatus(0)).containsEntry("exported_version", -1L);
    assertThat(backendStatus(1)).containsEntry("exported_version", 1L);
    assertThat(brokenRoot).doesNotExist();

    Files.createDirectories(brokenRoot.resolve("config"));
    Files.createDirectories(brokenRoot.resolve("resources"));
    run(false);

    assertThat(backendStatus(0))
        .containsEntry("last_error", null)
        .containsEntry("exported_version", 1L);
    assertThat(pointer(new FilesystemBackend(brokenRoot), signer).version()).isEqualTo(1);
  }

  @Test
  void whilePausedNothingIsExportedAndStatusSaysWhy() throws Exception {
    run(false);
    exporter.pause("storage holds another lineage");
    TestBuilders.writeUpstream(store, "u1");
    TestBuilders.awaitVersion(builder, 1);

    run(false);
    run(true);

    assertThat(pointer().version()).isEqualTo(0);
    assertThat(exporter.exportsHeld()).isTrue();
    assertThat(exporter.status()).containsEntry("paused", "storage holds another lineage");

    exporter.start();
    exporter.resume();

    await("exported once resumed", Duration.ofSeconds(2), () -> pointer().version() == 1);
    assertThat(exporter.status()).containsEntry("paused", null);
  }

  @Test
  void anExportOfAnotherLineageInStoragePausesExportsNamingBothLineages() throws Exception {
    // A second CP with a store of its own starts after this one and exports its version 0.
    try (ConfigStore otherStore = ConfigStore.open(dir.resolve("other-store"));
        SnapshotBuilder otherBuilder =
            new SnapshotBuilder(
                otherStore,
                dir.resolve("other-snapshots"),
                LAYOUT,
                "cp-other",
                otherStore::lineage,
                signer,
                TestBuilders.EXPIRE_AFTER,
                Clock.systemUTC())) {
      otherBuilder.start(List.of());
      TestBuilders.awaitVersion(otherBuilder, 0);
      try (StorageExporter other =
          new StorageExporter(
              otherBuilder,
              List.of(target("fs", backend)),
              CronSpec.parse("@every 1h"),
              DEBOUNCE,
              Clock.systemUTC())) {
        other.runOnce(false).block(Duration.ofSeconds(5));
      }
      TestBuilders.writeUpstream(store, "u1");
      TestBuilders.writeUpstream(store, "u2");
      TestBuilders.awaitVersion(builder, 2);

      run(false);
      run(true);

      // This CP's version 2 is higher, and still does not replace the other store's export.
      assertThat(pointer().version()).isZero();
      assertThat(pointer().lineage()).isEqualTo(otherStore.lineage());
      assertThat(exporter.exportsHeld()).isTrue();
      assertThat((String) exporter.status().get("paused"))
          .contains("fs holds export 0 of lineage " + otherStore.lineage())
          .contains("this one's is lineage " + TestBuilders.LINEAGE)
          .contains("--lineage=storage")
          .contains("--lineage=store");
      assertThat(backendStatus(0).get("last_error")).isEqualTo(exporter.status().get("paused"));

      // Restarted with --lineage=store, the CP replaces the lineage it was told to.
      try (StorageExporter keepingStore =
          new StorageExporter(
              builder,
              List.of(target("fs", backend)),
              CronSpec.parse("@every 1h"),
              DEBOUNCE,
              Clock.systemUTC(),
              () -> Optional.of(otherStore.lineage()))) {
        keepingStore.runOnce(false).block(Duration.ofSeconds(5));
        assertThat(keepingStore.exportsHeld()).isFalse();
      }
      assertThat(pointer().version()).isEqualTo(2);
      assertThat(pointer().lineage()).isEqualTo(TestBuilders.LINEAGE);
    }
  }
}
