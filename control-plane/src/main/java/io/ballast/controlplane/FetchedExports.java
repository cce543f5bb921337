package io.ballast.controlplane;

import io.ballast.fs.PrivateFiles;
import io.ballast.resource.ResourceSet;
import io.ballast.snapshot.ConfServerProtocol;
import io.ballast.snapshot.ExportFetcher;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.FetchResult;
import io.ballast.snapshot.SnapshotContent;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.VerifiedSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link StorageExports} read through an {@link ExportFetcher}: the pointer's signature is checked
 * before it counts, and the bodies against their part manifests, as a data plane would, so a
 * control plane never imports (and then signs) an export its keys do not vouch for.
 */
public final class FetchedExports implements StorageExports {

  private static final Logger log = LoggerFactory.getLogger(FetchedExports.class);

  private final ExportFetcher fetcher;
  private final Path downloadDir;
  private final Duration deadline;

  /**
   * @param deadline how long one read (the pointer, or the pointer and both bodies) may take
   */
  public FetchedExports(ExportFetcher fetcher, Path downloadDir, Duration deadline) {
    this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
    this.downloadDir = Objects.requireNonNull(downloadDir, "downloadDir");
    this.deadline = Objects.requireNonNull(deadline, "deadline");
  }

  @Override
  public Optional<ExportPointer> newest() {
    // Claiming every version is held makes the fetcher stop at the (verified) pointer.
    FetchResult result = fetch(Long.MAX_VALUE);
    if (result instanceof FetchResult.Missing) {
      return Optional.empty();
    }
    if (result instanceof FetchResult.NoNewer noNewer) {
      return Optional.of(pointer(noNewer.signed().manifest()));
    }
    throw new IllegalStateException("unexpected answer reading the pointer: " + result);
  }

  @Override
  public ResourceSet resources(ExportPointer pointer) {
    FetchResult result = fetch(ConfServerProtocol.NO_VERSION);
    if (!(result instanceof FetchResult.Fetched fetched)) {
      throw new IllegalStateException(
          "storage's newest export " + pointer + " is no longer there: " + result);
    }
    try {
      ExportPointer read = pointer(fetched.export().manifest());
      if (!read.equals(pointer)) {
        throw new IllegalStateException(
            "storage's newest export changed from " + pointer + " to " + read + " while read");
      }
      return SnapshotContent.readResources(fetched.export().part(SnapshotKind.RESOURCES).body());
    } finally {
      fetched.export().parts().values().stream()
          .map(VerifiedSnapshot::body)
          .forEach(FetchedExports::deleteQuietly);
    }
  }

  private FetchResult fetch(long haveVersion) {
    try {
      PrivateFiles.createFolder(downloadDir); // 0700: bodies hold sealed secrets
    } catch (IOException e) {
      throw new IllegalStateException("cannot create " + downloadDir + ": " + e.getMessage(), e);
    }
    FetchResult result;
    try {
      result = fetcher.fetchLatest(null, haveVersion, downloadDir).block(deadline);
    } catch (RuntimeException e) {
      throw new IllegalStateException(fetcher.describe() + ": " + e.getMessage(), e);
    }
    if (result == null) {
      throw new IllegalStateException("no answer from " + fetcher.describe());
    }
    return result;
  }

  private static ExportPointer pointer(ExportManifest manifest) {
    return new ExportPointer(manifest.lineage(), manifest.version());
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.warn("cannot delete downloaded export part {}: {}", file, e.toString());
    }
  }
}
