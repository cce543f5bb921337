package io.ballast.snapshot;

import io.ballast.storage.ETag;

/** What {@link ExportPublisher#publish} or {@link ExportPublisher#refresh} did. */
public sealed interface PublishResult {

  /**
   * The pointer now holds {@code signed} (a new export, or the same one re-signed); {@code
   * pointerEtag} is the pointer's new ETag.
   */
  record Published(SignedExport signed, ETag pointerEtag) implements PublishResult {}

  /**
   * The pointer was left as it was: it already named this version or a newer one ({@link
   * ExportPublisher#publish}), or another version than the one to re-sign ({@link
   * ExportPublisher#refresh}); {@code existingVersion} is -1 when there is no pointer.
   */
  record Skipped(long existingVersion) implements PublishResult {}

  /**
   * The pointer was left as it was: it names {@code existingVersion} of {@code existingLineage}, an
   * export of another store than this one's ({@code ownLineage}), which {@link
   * ExportPublisher#publish} may not replace unless the operator chose to.
   */
  record OtherLineage(long existingVersion, String existingLineage, String ownLineage)
      implements PublishResult {}
}
