package io.ballast.dataplane;

import io.ballast.fs.DurableFiles;
import io.ballast.fs.PrivateFiles;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SignedExport;
import io.ballast.snapshot.SnapshotFiles;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.snapshot.VerifiedSnapshot;
import io.ballast.storage.ETag;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data plane's last-known-good export on local disk, so that a DP restarting while both the CP
 * and storage are unreachable still serves. Layout: {@code <dir>/export/manifest.json} (the signed
 * manifest's exact bytes), one {@code <kind>-<version>.ndjson.gz} per part and, when the export
 * came from storage, {@code storage-etag-<version>} (the pointer's ETag, for the next
 * If-None-Match). On load the signature is checked again, as for any other source.
 */
public final class LocalCache {

  private static final String FOLDER = "export";
  private static final String MANIFEST = "manifest.json";

  private static final Logger log = LoggerFactory.getLogger(LocalCache.class);

  /** A cached export and the storage pointer ETag it was read with, if it came from storage. */
  public record Entry(VerifiedExport export, Optional<ETag> storageEtag) {}

  private final Path dir;
  private final SignatureVerifier verifier;

  public LocalCache(Path dir) {
    this(dir, SignatureVerifier.notRequired());
  }

  public LocalCache(Path dir, SignatureVerifier verifier) {
    this.dir = dir;
    this.verifier = verifier;
  }

  /** The cached export, verified again; empty when none, when damaged or when not trusted. */
  public Optional<Entry> load() {
    Path folder = dir.resolve(FOLDER);
    Path manifestFile = folder.resolve(MANIFEST);
    if (!Files.exists(manifestFile)) {
      return Optional.empty();
    }
    try {
      SignedExport signed = verifier.verify(Files.readAllBytes(manifestFile));
      Map<SnapshotKind, VerifiedSnapshot> parts = new EnumMap<>(SnapshotKind.class);
      for (SnapshotKind kind : SnapshotKind.values()) {
        Path body = folder.resolve(bodyName(kind, signed.version()));
        SnapshotFiles.verify(body, signed.manifest().part(kind));
        parts.put(kind, new VerifiedSnapshot(signed.manifest().part(kind), body));
      }
      Path etagFile = folder.resolve(etagName(signed.version()));
      Optional<ETag> etag =
          Files.exists(etagFile)
              ? Optional.of(ETag.of(Files.readString(etagFile, StandardCharsets.UTF_8)))
              : Optional.empty();
      return Optional.of(new Entry(new VerifiedExport(signed, parts), etag));
    } catch (IOException | RuntimeException e) {
      log.warn("ignoring the local cache in {}: {}", folder, e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * Replaces the cached export. The new bodies (copied: the source files belong to whoever
   * downloaded them) and ETag go to files named by version; replacing {@code manifest.json} is the
   * one step that switches entries, so a failure or crash before it leaves the previous entry
   * whole. Files of other versions are removed afterwards.
   */
  public void save(VerifiedExport export, Optional<ETag> storageEtag) {
    long version = export.version();
    Path folder = dir.resolve(FOLDER);
    try {
      PrivateFiles.createFolder(folder);
      for (SnapshotKind kind : SnapshotKind.values()) {
        Path source = export.part(kind).body();
        DurableFiles.replace(
            folder.resolve(bodyName(kind, version)), out -> Files.copy(source, out));
      }
      Path etagFile = folder.resolve(etagName(version));
      if (storageEtag.isPresent()) {
        DurableFiles.replace(
            etagFile, out -> out.write(storageEtag.get().value().getBytes(StandardCharsets.UTF_8)));
      } else {
        Files.deleteIfExists(etagFile);
      }
      DurableFiles.replace(folder.resolve(MANIFEST), out -> out.write(export.signed().json()));
      Set<String> current =
          Set.of(
              MANIFEST,
              bodyName(SnapshotKind.RESOURCES, version),
              bodyName(SnapshotKind.INSTANCE, version),
              etagName(version));
      try (var files = Files.list(folder)) {
        for (Path file : files.toList()) {
          if (!current.contains(file.getFileName().toString())) {
            Files.deleteIfExists(file);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the snapshot cache in " + folder, e);
    }
  }

  private static String bodyName(SnapshotKind kind, long version) {
    return kind.id() + "-" + version + ".ndjson.gz";
  }

  private static String etagName(long version) {
    return "storage-etag-" + version;
  }
}
