package io.ballast.snapshot;

import io.ballast.storage.ReadResult;
import reactor.core.publisher.Mono;

/** Reading {@code latest.json}, the same way for the publisher and the fetcher. */
final class Pointers {

  // A manifest is a few hundred bytes; anything far larger is not one.
  private static final int MAX_MANIFEST_BYTES = 1024 * 1024;

  private Pointers() {}

  /**
   * The manifest in a found pointer object, checked against {@code layout}: same group and kind,
   * and a body key inside the layout (so a pointer cannot send a reader elsewhere).
   */
  static Mono<SnapshotManifest> parse(ReadResult.Found found, SnapshotLayout layout) {
    String where = "snapshot pointer " + found.meta().key();
    return ByteStreams.collect(found.body(), MAX_MANIFEST_BYTES, where)
        .map(
            bytes -> {
              SnapshotManifest manifest;
              try {
                manifest = SnapshotManifest.fromJson(bytes);
              } catch (SnapshotFormatException e) {
                throw new SnapshotFormatException(where + ": " + e.getMessage(), e);
              }
              if (!manifest.gatewayGroup().equals(layout.gatewayGroup())
                  || manifest.kind() != layout.kind()) {
                throw new SnapshotFormatException(
                    where
                        + " describes gateway group '"
                        + manifest.gatewayGroup()
                        + "' kind '"
                        + manifest.kind().id()
                        + "', expected '"
                        + layout.gatewayGroup()
                        + "' kind '"
                        + layout.kind().id()
                        + "'");
              }
              String expectedBody = layout.bodyKey(manifest.version()).value();
              if (!manifest.bodyKey().equals(expectedBody)) {
                throw new SnapshotFormatException(
                    where
                        + " names body '"
                        + manifest.bodyKey()
                        + "' for version "
                        + manifest.version()
                        + ", expected '"
                        + expectedBody
                        + "'");
              }
              return manifest;
            });
  }
}
