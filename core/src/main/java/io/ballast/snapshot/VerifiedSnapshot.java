package io.ballast.snapshot;

import java.nio.file.Path;

/**
 * A snapshot on local disk whose body has been checked against its manifest (size and SHA-256). The
 * body file is immutable once wrapped here.
 */
public record VerifiedSnapshot(SnapshotManifest manifest, Path body) {

  public long version() {
    return manifest.version();
  }
}
