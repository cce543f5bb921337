package io.ballast.dataplane;

import io.ballast.fs.DurableFiles;
import io.ballast.fs.PrivateFiles;
import io.ballast.snapshot.SnapshotFiles;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.snapshot.VerifiedSnapshot;
import io.ballast.storage.ETag;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data plane's last-known-good snapshot of each kind on local disk, so that a DP restarting
 * while both the CP and storage are unreachable still serves. Layout per kind: {@code
 * <dir>/<kind>/manifest.json} naming the version, {@code body-<version>.ndjson.gz} and, when the
 * snapshot came from storage, {@code storage-etag-<version>} (the pointer's ETag, for the next
 * If-None-Match).
 */
public final class LocalCache {

  private static final String MANIFEST = "manifest.json";

  private static final Logger log = LoggerFactory.getLogger(LocalCache.class);

  /** A cached snapshot and the storage pointer ETag it was read with, if it came from storage. */
  public record Entry(VerifiedSnapshot snapshot, Optional<ETag> storageEtag) {}

  private final Path dir;

  public LocalCache(Path dir) {
    this.dir = dir;
  }

  /** The cached snapshot of {@code kind}, verified again; empty when none or when it is damaged. */
  public Optional<Entry> load(SnapshotKind kind) {
    Path folder = dir.resolve(kind.id());
    Path manifestFile = folder.resolve(MANIFEST);
    if (!Files.exists(manifestFile)) {
      return Optional.empty();
    }
    try {
      SnapshotManifest manifest = SnapshotManifest.fromJson(Files.readAllBytes(manifestFile));
      Path body = folder.resolve(bodyName(manifest.version()));
      SnapshotFiles.verify(body, manifest);
      Path etagFile = folder.resolve(etagName(manifest.version()));
      Optional<ETag> etag =
          Files.exists(etagFile)
              ? Optional.of(ETag.of(Files.readString(etagFile, StandardCharsets.UTF_8)))
              : Optional.empty();
      return Optional.of(new Entry(new VerifiedSnapshot(manifest, body), etag));
    } catch (IOException | RuntimeException e) {
      log.warn("ignoring the damaged {} cache in {}: {}", kind.id(), folder, e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * Replaces the cached snapshot of its kind. The new body (copied: the source file belongs to
   * whoever downloaded it) and ETag go to files named by version; replacing {@code manifest.json}
   * is the one step that switches entries, so a failure or crash before it leaves the previous
   * entry whole. Files of other versions are removed afterwards.
   */
  public void save(VerifiedSnapshot snapshot, Optional<ETag> storageEtag) {
    long version = snapshot.version();
    Path folder = dir.resolve(snapshot.manifest().kind().id());
    try {
      PrivateFiles.createFolder(folder);
      DurableFiles.replace(
          folder.resolve(bodyName(version)), out -> Files.copy(snapshot.body(), out));
      Path etagFile = folder.resolve(etagName(version));
      if (storageEtag.isPresent()) {
        DurableFiles.replace(
            etagFile, out -> out.write(storageEtag.get().value().getBytes(StandardCharsets.UTF_8)));
      } else {
        Files.deleteIfExists(etagFile);
      }
      DurableFiles.replace(
          folder.resolve(MANIFEST), out -> out.write(snapshot.manifest().toJson()));
      try (var files = Files.list(folder)) {
        for (Path file : files.toList()) {
          String name = file.getFileName().toString();
          if (!name.equals(MANIFEST)
              && !name.equals(bodyName(version))
              && !name.equals(etagName(version))) {
            Files.deleteIfExists(file);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the snapshot cache in " + folder, e);
    }
  }

  private static String bodyName(long version) {
    return "body-" + version + ".ndjson.gz";
  }

  private static String etagName(long version) {
    return "storage-etag-" + version;
  }
}
