package io.ballast.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.config.ConfigLoader;
import io.ballast.controlplane.store.ConfigStore;
import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import io.ballast.snapshot.FallbackCpConfig;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotLayout;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.storage.ETag;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StorageExporterTest {

  private static final String YAML =
      """
      fallback_cp:
        filesystem:
          config_bucket: config
          resource_bucket: resources
        cron_spec: '@every 1h'
        retention: 2
      """;

  @TempDir Path dir;
  private Path storageRoot;
  private ConfigStore store;
  private SnapshotBuilder builder;
  private FilesystemBackend backend;
  private StorageExporter exporter;

  @BeforeEach
  void start() throws Exception {
    storageRoot = dir.resolve("storage");
    store = ConfigStore.open(dir.resolve("store"));
    builder =
        new SnapshotBuilder(
            store, dir.resolve("snapshots"), "", "default", "cp-test", Clock.systemUTC());
    builder.start(List.of());
    awaitBuilt(0);
    Files.createDirectories(storageRoot.resolve("config"));
    Files.createDirectories(storageRoot.resolve("resources"));
    backend = new FilesystemBackend(storageRoot);
    FallbackCpConfig config =
        FallbackCpConfig.find(ConfigLoader.parse(YAML, "test.yaml", name -> null)).orElseThrow();
    exporter = new StorageExporter(builder, backend, config, "cp-test", Clock.systemUTC());
  }

  @AfterEach
  void stop() throws Exception {
    exporter.close();
    builder.close();
    store.close();
  }

  private void write(String upstreamId) {
    store.put(
        Resource.parse(
            ResourceType.UPSTREAMS,
            upstreamId,
            Json.mapper().readTree("{\"nodes\":{\"127.0.0.1:1980\":1}}")));
  }

  private void awaitBuilt(long version) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (builder.current(SnapshotKind.RESOURCES).map(s -> s.version()).orElse(-1L) != version) {
      assertThat(System.nanoTime()).as("built version %d in time", version).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  private void export() {
    exporter.exportChanged().block(Duration.ofSeconds(5));
  }

  private static SnapshotLayout layout(SnapshotKind kind) {
    return new SnapshotLayout("", "default", kind);
  }

  /** The pointer's manifest in {@code bucket}. */
  private SnapshotManifest pointer(String bucket, SnapshotKind kind) {
    ReadResult result =
        backend.bucket(bucket).get(layout(kind).latestKey(), ReadCondition.NONE).block();
    assertThat(result).as("pointer of %s", kind.id()).isInstanceOf(ReadResult.Found.class);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ((ReadResult.Found) result)
        .body()
        .doOnNext(
            buffer -> {
              byte[] chunk = new byte[buffer.remaining()];
              buffer.get(chunk);
              bytes.writeBytes(chunk);
            })
        .blockLast();
    return SnapshotManifest.fromJson(bytes.toByteArray());
  }

  private ETag pointerEtag() {
    ObjectMeta meta =
        backend.bucket("resources").head(layout(SnapshotKind.RESOURCES).latestKey()).block();
    return meta.etag();
  }

  @Test
  void exportsBothKinds() throws Exception {
    write("u1");
    awaitBuilt(1);

    export();

    assertThat(pointer("resources", SnapshotKind.RESOURCES).version()).isEqualTo(1);
    assertThat(pointer("config", SnapshotKind.INSTANCE).version())
        .isEqualTo(builder.current(SnapshotKind.INSTANCE).orElseThrow().version());
    assertThat(exporter.status())
        .containsEntry("resources_exported_version", 1L)
        .containsEntry("last_error", null);
  }

  @Test
  void exportsAnEmptyStoreAsVersionZero() throws Exception {
    // DPs serve an empty store's snapshot; one starting while the CP is away needs it too.
    export();

    SnapshotManifest manifest = pointer("resources", SnapshotKind.RESOURCES);
    assertThat(manifest.version()).isEqualTo(0);
    assertThat(manifest.counts()).isEmpty();
    assertThat(exporter.status()).containsEntry("resources_exported_version", 0L);
  }

  @Test
  void exportsNothingWhenNothingChanged() throws Exception {
    write("u1");
    awaitBuilt(1);
    export();
    ETag first = pointerEtag();

    export();

    assertThat(pointerEtag()).isEqualTo(first);
    assertThat(exporter.status()).containsEntry("resources_exported_version", 1L);
  }

  @Test
  void exportsTheNewVersionAfterAStoreWrite() throws Exception {
    write("u1");
    awaitBuilt(1);
    export();
    ETag first = pointerEtag();

    write("u2");
    awaitBuilt(2);
    export();

    assertThat(pointerEtag()).isNotEqualTo(first);
    SnapshotManifest manifest = pointer("resources", SnapshotKind.RESOURCES);
    assertThat(manifest.version()).isEqualTo(2);
    assertThat(manifest.counts()).containsEntry("upstreams", 2L);
  }

  @Test
  void aFailedExportIsReportedAndTheNextOneCatchesUp() throws Exception {
    // The storage folder is gone (an unmounted volume): its buckets are missing, not created.
    Path away = Files.move(storageRoot, dir.resolve("storage-unmounted"));
    write("u1");
    awaitBuilt(1);

    export();

    assertThat((String) exporter.status().get("last_error")).contains("does not exist");
    assertThat(exporter.status()).containsEntry("resources_exported_version", -1L);
    assertThat(storageRoot).doesNotExist();

    Files.move(away, storageRoot);
    export();

    assertThat(exporter.status()).containsEntry("last_error", null);
    assertThat(exporter.status()).containsEntry("resources_exported_version", 1L);
    assertThat(pointer("resources", SnapshotKind.RESOURCES).version()).isEqualTo(1);
    assertThat(pointer("config", SnapshotKind.INSTANCE).kind()).isEqualTo(SnapshotKind.INSTANCE);
  }
}
