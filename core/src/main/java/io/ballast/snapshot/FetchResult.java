package io.ballast.snapshot;

import io.ballast.storage.ETag;
import java.nio.file.Path;

/** What {@link SnapshotFetcher#fetchLatest} found. */
public sealed interface FetchResult {

  /** The pointer still has the ETag the caller knew: nothing was downloaded. */
  record NotModified(ETag pointerEtag) implements FetchResult {}

  /** No snapshot has been published yet. */
  record Missing() implements FetchResult {}

  /**
   * A verified body (size and SHA-256 match {@code manifest}) in a file the caller now owns and
   * must delete or move.
   */
  record Fetched(SnapshotManifest manifest, ETag pointerEtag, Path bodyFile)
      implements FetchResult {}
}
