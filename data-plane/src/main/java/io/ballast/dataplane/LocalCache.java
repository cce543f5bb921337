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
import java.util.Set;
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
   * Replaces the cached export. The new bodies (copied: the source files belong to whoever
   * downloaded them) and ETag go to files named by version; replacing {@code manifest.json} is the
   * one step that switches entries, so a failure or crash before it leaves the previous entry
   * whole. Files of other versions are removed afterwards. Each file goes to a temp file, fsynced
   * and renamed ({@link DurableFiles}); a failed write (a full disk) is counted, its temp files
   * removed, and logged; it never throws.
   */
  public void save(VerifiedExport export, Optional<ETag> storageEtag) {
    long version = export.version();
    Path folder = dir.resolve(FOLDER);
    List<Path> written = new ArrayList<>();
    try {
      PrivateFiles.createFolder(folder);
      for (SnapshotKind kind : SnapshotKind.values()) {
        Path source = export.part(kind).body();
        Path target = folder.resolve(bodyName(kind, version));
        written.add(target);
        DurableFiles.replace(target, out -> Files.copy(source, out));
      }
      Path etagFile = folder.resolve(etagName(version));
      written.add(etagFile);
      written.add(folder.resolve(MANIFEST));
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
    } catch (IOException | RuntimeException e) {
      writeFailures.incrementAndGet();
      for (Path target : written) {
        try {
          Files.deleteIfExists(DurableFiles.tempOf(target));
        } catch (IOException cleanup) {
          log.debug("cannot delete {}: {}", DurableFiles.tempOf(target), cleanup.toString());
        }
      }
      log.warn(
          "could not write export {} to the local cache in {} ({} failed writes since start; the"
              + " previous entry stays whole): {}",
          version,
          folder,
          writeFailures.get(),
          e.getMessage() == null ? e.toString() : e.getMessage());
    }
  }

  private static String bodyName(SnapshotKind kind, long version) {
    return kind.id() + "-" + version + ".ndjson.gz";
  }

  private static String etagName(long version) {
    return "storage-etag-" + version;
  }
}
