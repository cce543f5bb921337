package io.ballast.snapshot;

import io.ballast.storage.ETag;

/** What {@link ExportFetcher#fetchLatest} found. */
public sealed interface FetchResult {

  /** The pointer still has the ETag the caller knew: nothing was downloaded. */
  record NotModified(ETag pointerEtag) implements FetchResult {}

  /** No export has been published yet. */
  record Missing() implements FetchResult {}

  /**
   * The pointer changed but names no export newer than the caller's: typically the same export
   * re-signed by the control plane's cron tick. Its signature was checked; no body was read.
   */
  record NoNewer(SignedExport signed, ETag pointerEtag) implements FetchResult {}

  /**
   * Both parts of a newer export, verified (signature, then each body's size and SHA-256), in files
   * the caller now owns and must delete or move.
   */
  record Fetched(VerifiedExport export, ETag pointerEtag) implements FetchResult {}
}
