package io.ballast.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SigningKeys;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotSigner;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.storage.ETag;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

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
  void setsAsideAnEntryWhoseManifestIsNotJsonAndIgnoresOneWithout() throws IOException {
    cache.save(snapshot(3), Optional.empty());
    Path manifest = cacheDir.resolve("export").resolve("manifest.json");
    Files.writeString(manifest, "{not json");
    assertThat(cache.load()).isEmpty();
    assertThat(cache.lastRefusal().orElseThrow().signature()).isFalse();
    // Set aside, not deleted: someone can look at it, and nothing reads it again.
    try (var files = Files.list(cacheDir)) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .singleElement()
          .asString()
          .startsWith("export.refused-");
    }

    cache.save(snapshot(4), Optional.empty());
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
    assertThat(trusting.lastRefusal().orElseThrow().signature()).isTrue();

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
  void aFailedSaveIsCountedLeavesNoTempFileAndThePreviousEntryWhole() throws IOException {
    cache.save(snapshot(3), Optional.of(ETag.of("old")));
    VerifiedExport vanished = snapshot(4);
    Files.delete(vanished.part(SnapshotKind.INSTANCE).body());

    cache.save(vanished, Optional.empty());

    assertThat(cache.writeFailures()).isEqualTo(1);
    try (var files = Files.list(cacheDir.resolve("export"))) {
      assertThat(files.map(f -> f.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
    }
    LocalCache.Entry loaded = cache.load().orElseThrow();
    assertThat(loaded.export().version()).isEqualTo(3);
    assertThat(loaded.storageEtag()).contains(ETag.of("old"));
  }

  @Test
  void aWriteOnAFullDiskLeavesThePreviousEntryWholeRemovesItsTempFilesAndWarnsOnce()
      throws IOException {
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    logger().addAppender(logged);
    try {
      cache.save(snapshot(3), Optional.of(ETag.of("old")));
      Path folder = cacheDir.resolve("export");
      List<String> before = names(folder);
      // The first body (every part left written but not renamed) and the manifest (all new bodies
      // written, only the switch missing): neither may leave new files beside the old manifest.
      List<String> full = List.of("resources-4.ndjson.gz", "manifest.json");
      for (String file : full) {
        FullDisk.at(folder.resolve(file));

        cache.save(snapshot(4), Optional.of(ETag.of("new")));

        assertThat(names(folder)).as("files after %s failed", file).isEqualTo(before);
        LocalCache.Entry loaded = cache.load().orElseThrow();
        assertThat(loaded.export().version()).as("after %s failed", file).isEqualTo(3);
        assertThat(loaded.storageEtag()).contains(ETag.of("old"));
      }
      assertThat(Files.isSymbolicLink(FullDisk.DEVICE)).isFalse();
      assertThat(cache.writeFailures()).isEqualTo(2);
      assertThat(cache.writeError()).hasValueSatisfying(e -> assertThat(e).contains("No space"));
      assertThat(logged.list)
          .filteredOn(e -> e.getLevel() == Level.WARN)
          .singleElement()
          .satisfies(
              e ->
                  assertThat(e.getFormattedMessage())
                      .contains(folder.toString())
                      .contains("No space left on device"));

      cache.save(snapshot(5), Optional.empty());

      assertThat(cache.load().orElseThrow().export().version()).isEqualTo(5);
      assertThat(names(folder))
          .containsExactly("instance-5.ndjson.gz", "manifest.json", "resources-5.ndjson.gz");
      assertThat(cache.writeError()).isEmpty();
      assertThat(cache.writeFailures()).isEqualTo(2);
      assertThat(logged.list)
          .filteredOn(e -> e.getLevel() == Level.INFO)
          .singleElement()
          .satisfies(e -> assertThat(e.getFormattedMessage()).contains("written again"));
    } finally {
      logger().detachAppender(logged);
    }
  }

  private static List<String> names(Path folder) throws IOException {
    try (var files = Files.list(folder)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  private static ch.qos.logback.classic.Logger logger() {
    return (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(LocalCache.class);
  }
}
