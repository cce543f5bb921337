package io.ballast.dataplane;

import io.ballast.fs.DurableFiles;
import io.ballast.fs.PrivateFiles;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SignedExport;
import io.ballast.snapshot.SnapshotFiles;
import io.ballast.snapshot.SnapshotIntegrityException;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.snapshot.VerifiedSnapshot;
import io.ballast.storage.ETag;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data plane's last-known-good configuration on local disk, so that a DP restarting while both
 * the CP and storage are unreachable still serves.
 *
 * <p>An export (from the CP or storage) lives in {@code <dir>/export/}: {@code manifest.json}, the
 * signed manifest's exact bytes, {@code resources-<version>.ndjson.gz} and {@code
 * instance-<version>.ndjson.gz}, and, when it came from storage, {@code storage-etag-<version>}
 * (the pointer's ETag, for the next If-None-Match). On load the signature is checked again with the
 * node's {@link SignatureVerifier} and both bodies against their parts; a cache that fails is set
 * aside ({@code export.refused-<millis>}), never deleted, so that it can be looked at.
 *
 * <p>A standalone file's snapshot lives per kind: {@code <dir>/<kind>/manifest.json} naming the
 * version and {@code body-<version>.ndjson.gz}.
 *
 * <p>Every file is written to a temp file, fsynced and renamed ({@link DurableFiles}); {@code
 * manifest.json} is written last, so a failure (a full disk) or a crash before it leaves the
 * previous entry whole. A failed write is counted and its temp file removed.
 */
public final class LocalCache {

  private static final String MANIFEST = "manifest.json";

  private static final Logger log = LoggerFactory.getLogger(LocalCache.class);

  /** A cached snapshot and the storage pointer ETag it was read with, if it came from storage. */
  public record Entry(VerifiedSnapshot snapshot, Optional<ETag> storageEtag) {}

  private static final String EXPORT = "export";

  /** Why a cached export was not served, for the data plane to report. */
  public record Refusal(boolean signature, String reason) {}

  private final Path dir;
  private final SignatureVerifier verifier;
  private final AtomicLong writeFailures = new AtomicLong();
  private volatile Refusal lastRefusal;

  public LocalCache(Path dir) {
    this(dir, SignatureVerifier.notRequired());
  }

  /**
   * @param verifier checks a cached export's signature again on load
   */
  public LocalCache(Path dir, SignatureVerifier verifier) {
    this.dir = dir;
    this.verifier = verifier;
  }

  /** Cache writes that failed (a full disk, say) since start. */
  public long writeFailures() {
    return writeFailures.get();
  }

  /** Why the last cached export was set aside, if one was. */
  public Optional<Refusal> lastRefusal() {
    return Optional.ofNullable(lastRefusal);
  }

  /** A cached export and the storage pointer ETag it was read with, if it came from storage. */
  public record ExportEntry(VerifiedExport export, Optional<ETag> storageEtag) {}

  /**
   * The cached export, its signature and both bodies verified again; empty when there is none or
   * when it fails, in which case it is set aside.
   */
  public Optional<ExportEntry> loadExport() {
    Path folder = dir.resolve(EXPORT);
    Path manifestFile = folder.resolve(MANIFEST);
    if (!Files.exists(manifestFile)) {
      return Optional.empty();
    }
    try {
      SignedExport signed = verifier.verify(Files.readAllBytes(manifestFile));
      long version = signed.version();
      Map<SnapshotKind, VerifiedSnapshot> parts = new EnumMap<>(SnapshotKind.class);
      for (SnapshotKind kind : SnapshotKind.values()) {
        SnapshotManifest part = signed.manifest().part(kind);
        Path body = folder.resolve(partName(kind, version));
        SnapshotFiles.verify(body, part);
        parts.put(kind, new VerifiedSnapshot(part, body));
      }
      Path etagFile = folder.resolve(etagName(version));
      Optional<ETag> etag =
          Files.exists(etagFile)
              ? Optional.of(ETag.of(Files.readString(etagFile, StandardCharsets.UTF_8)))
              : Optional.empty();
      return Optional.of(new ExportEntry(new VerifiedExport(signed, parts), etag));
    } catch (IOException | RuntimeException e) {
      lastRefusal =
          new Refusal(e instanceof SnapshotIntegrityException && isSignature(e), describe(e));
      setAside(folder, describe(e));
      return Optional.empty();
    }
  }

  private static boolean isSignature(Exception e) {
    String message = String.valueOf(e.getMessage());
    return message.contains("signed") || message.contains("signature");
  }

  private static String describe(Exception e) {
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }

  /** Renames a cache that failed, so that nothing reads it again and someone can look at it. */
  private void setAside(Path folder, String reason) {
    Path aside =
        folder.resolveSibling(folder.getFileName() + ".refused-" + System.currentTimeMillis());
    try {
      Files.move(folder, aside);
      log.warn("set the cached export aside as {}: {}", aside, reason);
    } catch (IOException e) {
      log.warn(
          "ignoring the cached export in {} ({}); it could not be set aside: {}",
          folder,
          reason,
          e.toString());
    }
  }

  /**
   * Replaces the cached export: the bodies (copied: the files belong to whoever downloaded them)
   * and the ETag first, the signed manifest last. Never throws: a failure is counted and logged,
   * and the previous entry stays whole.
   */
  public void save(VerifiedExport export, Optional<ETag> storageEtag) {
    long version = export.version();
    Path folder = dir.resolve(EXPORT);
    List<Path> written = new ArrayList<>();
    try {
      PrivateFiles.createFolder(folder);
      for (SnapshotKind kind : SnapshotKind.values()) {
        Path target = folder.resolve(partName(kind, version));
        written.add(target);
        DurableFiles.replace(target, out -> Files.copy(export.part(kind).body(), out));
      }
      Path etagFile = folder.resolve(etagName(version));
      if (storageEtag.isPresent()) {
        written.add(etagFile);
        DurableFiles.replace(
            etagFile, out -> out.write(storageEtag.get().value().getBytes(StandardCharsets.UTF_8)));
      } else {
        Files.deleteIfExists(etagFile);
      }
      Path manifest = folder.resolve(MANIFEST);
      written.add(manifest);
      DurableFiles.replace(manifest, out -> out.write(export.signed().json()));
      List<String> keep =
          List.of(
              MANIFEST,
              partName(SnapshotKind.RESOURCES, version),
              partName(SnapshotKind.INSTANCE, version),
              etagName(version));
      try (var files = Files.list(folder)) {
        for (Path file : files.toList()) {
          if (!keep.contains(file.getFileName().toString())) {
            Files.deleteIfExists(file);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      writeFailures.incrementAndGet();
      for (Path target : written) {
        deleteQuietly(DurableFiles.tempOf(target));
      }
      log.warn(
          "could not write export {} to the local cache in {} (failure {} since start; the"
              + " previous entry stays): {}",
          version,
          folder,
          writeFailures.get(),
          describe(e));
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.debug("cannot delete {}: {}", file, e.toString());
    }
  }

  private static String partName(SnapshotKind kind, long version) {
    return kind.id() + "-" + version + ".ndjson.gz";
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
