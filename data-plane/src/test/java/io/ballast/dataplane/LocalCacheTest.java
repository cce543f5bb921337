package io.ballast.dataplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SigningKeys;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotSigner;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.storage.ETag;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

  private VerifiedExport snapshot(long version) {
    return Snapshots.resources(dir, version, Snapshots.routeTo("/v" + version));
  }

  private static VerifiedExport signed(VerifiedExport export, SnapshotSigner signer) {
    return new VerifiedExport(signer.sign(export.manifest()), export.parts());
  }

  @Test
  void isEmptyWhenNothingWasSaved() {
    assertThat(cache.load()).isEmpty();
  }

  @Test
  void roundTripsBothPartsWithoutAStorageEtag() throws IOException {
    VerifiedExport saved = snapshot(3);
    cache.save(saved, Optional.empty());

    LocalCache.Entry loaded = cache.load().orElseThrow();
    assertThat(loaded.export().manifest()).isEqualTo(saved.manifest());
    assertThat(loaded.export().signed().json()).isEqualTo(saved.signed().json());
    assertThat(loaded.storageEtag()).isEmpty();
    for (SnapshotKind kind : SnapshotKind.values()) {
      assertThat(Files.readAllBytes(loaded.export().part(kind).body()))
          .isEqualTo(Files.readAllBytes(saved.part(kind).body()));
      // The cache holds its own copy: the downloader may delete its file.
      assertThat(loaded.export().part(kind).body()).isNotEqualTo(saved.part(kind).body());
    }
  }

  @Test
  void roundTripsWithAStorageEtag() {
    cache.save(snapshot(3), Optional.of(ETag.of("abc-123")));

    assertThat(cache.load().orElseThrow().storageEtag()).contains(ETag.of("abc-123"));
  }

  @Test
  void ignoresACorruptedBodyOfEitherPart() throws IOException {
    for (SnapshotKind kind : SnapshotKind.values()) {
      cache.save(snapshot(3), Optional.empty());
      Path body = cache.load().orElseThrow().export().part(kind).body();
      byte[] bytes = Files.readAllBytes(body);
      bytes[bytes.length / 2] ^= 0x01;
      Files.write(body, bytes);

      assertThat(cache.load()).as(kind.id()).isEmpty();
    }
  }

  @Test
  void ignoresAnEntryWithoutManifestOrWithOneThatIsNotJson() throws IOException {
    cache.save(snapshot(3), Optional.empty());
    Path manifest = cacheDir.resolve("export").resolve("manifest.json");
    Files.writeString(manifest, "{not json");
    assertThat(cache.load()).isEmpty();

    Files.delete(manifest);
    assertThat(cache.load()).isEmpty();
  }

  @Test
  void checksTheSignatureAgainWhenKeysAreTrusted() {
    SnapshotSigner cp = new SnapshotSigner(SigningKeys.generate());
    SnapshotSigner other = new SnapshotSigner(SigningKeys.generate());
    LocalCache trusting =
        new LocalCache(cacheDir, SignatureVerifier.trusting(List.of(cp.publicKey())));

    trusting.save(signed(snapshot(3), cp), Optional.empty());
    assertThat(trusting.load()).isPresent();

    trusting.save(signed(snapshot(4), other), Optional.empty());
    assertThat(trusting.load()).as("signed by a key not trusted").isEmpty();

    trusting.save(snapshot(5), Optional.empty());
    assertThat(trusting.load()).as("unsigned").isEmpty();
  }

  @Test
  void aNewerExportReplacesTheOlder() throws IOException {
    cache.save(snapshot(3), Optional.of(ETag.of("old")));
    VerifiedExport newer = snapshot(4);
    cache.save(newer, Optional.empty());

    LocalCache.Entry loaded = cache.load().orElseThrow();
    assertThat(loaded.export().version()).isEqualTo(4);
    assertThat(loaded.storageEtag()).isEmpty();
    assertThat(Files.readAllBytes(loaded.export().part(SnapshotKind.RESOURCES).body()))
        .isEqualTo(Files.readAllBytes(newer.part(SnapshotKind.RESOURCES).body()));
    try (var files = Files.list(cacheDir.resolve("export"))) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .containsExactlyInAnyOrder(
              "manifest.json", "resources-4.ndjson.gz", "instance-4.ndjson.gz");
    }
  }

  @Test
  void aFailedSaveLeavesThePreviousEntryWhole() throws IOException {
    cache.save(snapshot(3), Optional.of(ETag.of("old")));
    VerifiedExport vanished = snapshot(4);
    Files.delete(vanished.part(SnapshotKind.INSTANCE).body());

    assertThatThrownBy(() -> cache.save(vanished, Optional.empty()))
        .isInstanceOf(UncheckedIOException.class);

    LocalCache.Entry loaded = cache.load().orElseThrow();
    assertThat(loaded.export().version()).isEqualTo(3);
    assertThat(loaded.storageEtag()).contains(ETag.of("old"));
  }
}
