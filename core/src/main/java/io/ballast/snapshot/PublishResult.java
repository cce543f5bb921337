package io.ballast.snapshot;

import io.ballast.storage.ETag;

/** What {@link SnapshotPublisher#publish} did. */
public sealed interface PublishResult {

  /** The pointer now names this snapshot; {@code pointerEtag} is the pointer's new ETag. */
  record Published(SnapshotManifest manifest, ETag pointerEtag) implements PublishResult {}

  /** The pointer already named this version or a newer one, and was left as it was. */
  record Skipped(long existingVersion) implements PublishResult {}
}
