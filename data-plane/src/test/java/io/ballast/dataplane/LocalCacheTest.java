package io.ballast.dataplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.VerifiedSnapshot;
import io.ballast.storage.ETag;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalCacheTest {

  @TempDir Path dir;
  private Path cacheDir;
  private LocalCache cache;

  @BeforeEach
  void create() {
    cacheDir = dir.resolve("cache");
    cache = new LocalCache(cacheDir);
  }

  private VerifiedSnapshot snapshot(long version) {
    return Snapshots.resources(dir, version, Snapshots.routeTo("/v" + version));
  }

  @Test
  void isEmptyWhenNothingWasSaved() {
    assertThat(cache.load(SnapshotKind.RESOURCES)).isEmpty();
  }

  @Test
  void roundTripsWithoutAStorageEtag() throws IOException {
    VerifiedSnapshot saved = snapshot(3);
    cache.save(saved, Optional.empty());

    LocalCache.Entry loaded = cache.load(SnapshotKind.RESOURCES).orElseThrow();
    assertThat(loaded.snapshot().manifest()).isEqualTo(saved.manifest());
    assertThat(loaded.storageEtag()).isEmpty();
    assertThat(Files.readAllBytes(loaded.snapshot().body()))
        .isEqualTo(Files.readAllBytes(saved.body()));
    // The cache holds its own copy: the downloader may delete its file.
    assertThat(loaded.snapshot().body()).isNotEqualTo(saved.body());
  }

  @Test
  void roundTripsWithAStorageEtag() {
    cache.save(snapshot(3), Optional.of(ETag.of("abc-123")));

    assertThat(cache.load(SnapshotKind.RESOURCES).orElseThrow().storageEtag())
        .contains(ETag.of("abc-123"));
  }

  @Test
  void kindsAreCachedApart() {
    cache.save(snapshot(3), Optional.empty());

    assertThat(cache.load(SnapshotKind.INSTANCE)).isEmpty();
  }

  @Test
  void ignoresACorruptedBody() throws IOException {
    cache.save(snapshot(3), Optional.empty());
    Path body = cache.load(SnapshotKind.RESOURCES).orElseThrow().snapshot().body();
    byte[] bytes = Files.readAllBytes(body);
    bytes[bytes.length / 2] ^= 0x01;
    Files.write(body, bytes);

    assertThat(cache.load(SnapshotKind.RESOURCES)).isEmpty();
  }

  @Test
  void ignoresAnEntryWithoutManifest() throws IOException {
    cache.save(snapshot(3), Optional.empty());
    Files.delete(cacheDir.resolve("resources").resolve("manifest.json"));

    assertThat(cache.load(SnapshotKind.RESOURCES)).isEmpty();
  }

  @Test
  void ignoresAManifestThatIsNotJson() throws IOException {
    cache.save(snapshot(3), Optional.empty());
    Files.writeString(cacheDir.resolve("resources").resolve("manifest.json"), "{not json");

    assertThat(cache.load(SnapshotKind.RESOURCES)).isEmpty();
  }

  @Test
  void aNewerSnapshotReplacesTheOlder() throws IOException {
    cache.save(snapshot(3), Optional.of(ETag.of("old")));
    VerifiedSnapshot newer = snapshot(4);
    cache.save(newer, Optional.empty());

    LocalCache.Entry loaded = cache.load(SnapshotKind.RESOURCES).orElseThrow();
    assertThat(loaded.snapshot().version()).isEqualTo(4);
    assertThat(loaded.storageEtag()).isEmpty();
    assertThat(Files.readAllBytes(loaded.snapshot().body()))
        .isEqualTo(Files.readAllBytes(newer.body()));
  }

  @Test
  void aFailedSaveLeavesThePreviousEntryWhole() throws IOException {
    cache.save(snapshot(3), Optional.of(ETag.of("old")));
    VerifiedSnapshot vanished = snapshot(4);
    Files.delete(vanished.body());

    assertThatThrownBy(() -> cache.save(vanished, Optional.empty()))
        .isInstanceOf(UncheckedIOException.class);

    LocalCache.Entry loaded = cache.load(SnapshotKind.RESOURCES).orElseThrow();
    assertThat(loaded.snapshot().version()).isEqualTo(3);
    assertThat(loaded.storageEtag()).contains(ETag.of("old"));
  }
}
