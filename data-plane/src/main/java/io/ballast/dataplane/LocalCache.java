package io.ballast.dataplane;

import io.ballast.fs.DurableFiles;
import io.ballast.fs.PrivateFiles;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SignedExport;
import io.ballast.snapshot.SnapshotFiles;
import io.ballast.snapshot.SnapshotIntegrityException;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.snapshot.VerifiedSnapshot;
import io.ballast.storage.ETag;
import java.io.IOException;
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

  /** Why a cached export was not served, for the data plane to report. */
  public record Refusal(boolean signature, String reason) {}

  private final Path dir;
  private final SignatureVerifier verifier;
  private final AtomicLong writeFailures = new AtomicLong();
  private volatile Refusal lastRefusal;
  private volatile String writeError;

  public LocalCache(Path dir) {
    this(dir, SignatureVerifier.notRequired());
  }

  public LocalCache(Path dir, SignatureVerifier verifier) {
    this.dir = dir;
    this.verifier = verifier;
  }

  /** Cache writes that failed (a full disk, say) since start. */
  public long writeFailures() {
    return writeFailures.get();
  }

  /** Why the last cache write failed, while the writes fail; empty once one works again. */
  public Optional<String> writeError() {
    return Optional.ofNullable(writeError);
  }

  /** Why the last cached export was set aside, if one was. */
  public Optional<Refusal> lastRefusal() {
    return Optional.ofNullable(lastRefusal);
  }

  /**
   * The cached export, verified again; empty when none, or when damaged or not trusted, in which
   * case it is set aside ({@code export.refused-<millis>}), not deleted, so that someone can look
   * at it and nothing reads it again.
   */
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
      String reason = e.getMessage() == null ? e.toString() : e.getMessage();
      lastRefusal =
          new Refusal(
              e instanceof SnapshotIntegrityException
                  && (reason.contains("signed") || reason.contains("signature")),
              reason);
      setAside(folder, reason);
      return Optional.empty();
    }
  }

  private static void setAside(Path folder, String reason) {
    Path aside =
        folder.resolveSibling(folder.getFileName() + ".refused-" + System.currentTimeMillis());
    try {
      Files.move(folder, aside);
      log.warn("set the local cache aside as {}, not serving it: {}", aside, reason);
    } catch (IOException e) {
      log.warn(
          "not serving the local cache in {} ({}); it could not be set aside: {}",
          folder,
          reason,
          e.toString());
    }
  }

  /**
   * Replaces the cached export, never throwing. Every new file (the bodies, copied because the
   * source files belong to whoever downloaded them; the ETag; the manifest) is first written to a
   * temp file and fsynced ({@link DurableFiles#prepare}); only when all are written are they
   * renamed into place, the manifest last, since it is the one file that switches entries. A write
   * that fails (a full disk: ENOSPC, EFBIG, EIO) therefore touches nothing but temp files, which
   * are removed, so the previous entry stays whole and verifies. Bodies and ETag are named by
   * version, so renaming them does not disturb the entry the old manifest names; files of other
   * versions are removed once the new manifest is in place. Failures are counted, logged once per
   * run of failures (one WARN naming the folder and the cause), and the next successful save ends
   * the run.
   */
  public void save(VerifiedExport export, Optional<ETag> storageEtag) {
    long version = export.version();
    Path folder = dir.resolve(FOLDER);
    List<Path> targets = new ArrayList<>();
    for (SnapshotKind kind : SnapshotKind.values()) {
      targets.add(folder.resolve(bodyName(kind, version)));
    }
    storageEtag.ifPresent(etag -> targets.add(folder.resolve(etagName(version))));
    Path manifest = folder.resolve(MANIFEST);
    targets.add(manifest);
    List<Path> committed = new ArrayList<>();
    try {
      PrivateFiles.createFolder(folder);
      for (SnapshotKind kind : SnapshotKind.values()) {
        Path source = export.part(kind).body();
        DurableFiles.prepare(
            folder.resolve(bodyName(kind, version)), out -> Files.copy(source, out));
      }
      if (storageEtag.isPresent()) {
        byte[] etag = storageEtag.get().value().getBytes(StandardCharsets.UTF_8);
        DurableFiles.prepare(folder.resolve(etagName(version)), out -> out.write(etag));
      }
      DurableFiles.prepare(manifest, out -> out.write(export.signed().json()));
      for (Path target : targets) {
        // A file that existed before belongs to the entry in place (the same version): keep it.
        boolean isNew = !Files.exists(target);
        DurableFiles.commit(target);
        if (isNew && !target.equals(manifest)) {
          committed.add(target);
        }
      }
      committed.clear();
      DurableFiles.syncDirectory(folder);
      removeAllBut(folder, targets);
      succeeded(folder, version);
    } catch (IOException | RuntimeException e) {
      for (Path target : targets) {
        deleteQuietly(DurableFiles.tempOf(target));
      }
      // Renamed before the manifest failed to follow: no manifest names them.
      committed.forEach(LocalCache::deleteQuietly);
      failed(folder, version, e);
    }
  }

  /**
   * Removes the files of other versions (and any temp file a crash left) once the new entry is in.
   */
  private static void removeAllBut(Path folder, List<Path> keep) throws IOException {
    try (var files = Files.list(folder)) {
      for (Path file : files.toList()) {
        if (!keep.contains(file)) {
          Files.deleteIfExists(file);
        }
      }
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.debug("cannot delete {}: {}", file, e.toString());
    }
  }

  private synchronized void failed(Path folder, long version, Exception e) {
    long failures = writeFailures.incrementAndGet();
    String cause = e.toString();
    if (writeError == null) {
      log.warn(
          "cannot write to the local cache in {} (export {}): {}; the previous entry stays whole"
              + " and serving goes on; later failures are counted on /status until a write works",
          folder,
          version,
          cause);
    } else {
      log.debug("local cache write {} failed again ({} failures): {}", version, failures, cause);
    }
    writeError = cause;
  }

  private synchronized void succeeded(Path folder, long version) {
    if (writeError != null) {
      log.info(
          "the local cache in {} is written again (export {}; {} failed writes since start)",
          folder,
          version,
          writeFailures.get());
      writeError = null;
    }
  }

  private static String bodyName(SnapshotKind kind, long version) {
    return kind.id() + "-" + version + ".ndjson.gz";
  }

  private static String etagName(long version) {
    return "storage-etag-" + version;
  }
}
