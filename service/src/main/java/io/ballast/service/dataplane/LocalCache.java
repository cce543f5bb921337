package io.ballast.service.dataplane;

import io.ballast.service.node.VerifiedSnapshot;
import io.ballast.snapshot.SnapshotFiles;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.storage.ETag;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data plane's last-known-good snapshot of each kind on local disk, so that a DP restarting
 * while both the CP and storage are unreachable still serves. Layout per kind: {@code
 * <dir>/<kind>/body.ndjson.gz}, {@code manifest.json} (written last: a cache entry exists only once
 * its manifest does) and {@code storage-etag} (the ETag of storage's pointer when the snapshot came
 * from there, for the next If-None-Match).
 */
public final class LocalCache {

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
    Path manifestFile = folder.resolve("manifest.json");
    if (!Files.exists(manifestFile)) {
      return Optional.empty();
    }
    try {
      SnapshotManifest manifest = SnapshotManifest.fromJson(Files.readAllBytes(manifestFile));
      Path body = folder.resolve("body.ndjson.gz");
      SnapshotFiles.verify(body, manifest);
      Path etagFile = folder.resolve("storage-etag");
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
   * Replaces the cached snapshot of its kind. The body is copied (the source file belongs to
   * whoever downloaded it) and each file is written to a temp name, fsynced and renamed.
   */
  public void save(VerifiedSnapshot snapshot, Optional<ETag> storageEtag) {
    Path folder = dir.resolve(snapshot.manifest().kind().id());
    try {
      Files.createDirectories(folder);
      Files.deleteIfExists(folder.resolve("manifest.json"));
      replace(
          folder.resolve("body.ndjson.gz"),
          tmp -> Files.copy(snapshot.body(), tmp, StandardCopyOption.REPLACE_EXISTING));
      Path etagFile = folder.resolve("storage-etag");
      if (storageEtag.isPresent()) {
        replace(etagFile, tmp -> Files.writeString(tmp, storageEtag.get().value()));
      } else {
        Files.deleteIfExists(etagFile);
      }
      replace(
          folder.resolve("manifest.json"), tmp -> Files.write(tmp, snapshot.manifest().toJson()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the snapshot cache in " + folder, e);
    }
  }

  private interface Writer {
    void write(Path tmp) throws IOException;
  }

  private static void replace(Path target, Writer writer) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    writer.write(tmp);
    try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
