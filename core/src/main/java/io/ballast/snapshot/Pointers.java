package io.ballast.snapshot;

import io.ballast.storage.ReadResult;
import reactor.core.publisher.Mono;

/** Reading the export pointer ({@code latest.json}), the same way for the publisher and fetcher. */
final class Pointers {

  // A manifest is a few kilobytes; anything far larger is not one.
  private static final int MAX_MANIFEST_BYTES = 1024 * 1024;

  private Pointers() {}

  /**
   * The signed manifest in a found pointer object: its signature checked by {@code verifier} first,
   * then checked against {@code layout}: same gateway group, and body keys inside the layout (so a
   * pointer cannot send a reader elsewhere).
   *
   * @throws SnapshotFormatException or {@link SnapshotIntegrityException} naming the pointer
   */
  static Mono<SignedExport> parse(
      ReadResult.Found found, ExportLayout layout, SignatureVerifier verifier) {
    String where = "export pointer " + found.meta().key();
    return ByteStreams.collect(found.body(), MAX_MANIFEST_BYTES, where)
        .map(
            bytes -> {
              SignedExport signed;
              try {
                signed = verifier.verify(bytes);
              } catch (SnapshotFormatException e) {
                throw new SnapshotFormatException(where + ": " + e.getMessage(), e);
              } catch (SnapshotIntegrityException e) {
                throw new SnapshotIntegrityException(where + ": " + e.getMessage());
              }
              ExportManifest manifest = signed.manifest();
              if (!manifest.gatewayGroup().equals(layout.gatewayGroup())) {
                throw new SnapshotFormatException(
                    where
                        + " describes gateway group '"
                        + manifest.gatewayGroup()
                        + "', expected '"
                        + layout.gatewayGroup()
                        + "'");
              }
              for (SnapshotKind kind : SnapshotKind.values()) {
                SnapshotManifest part = manifest.part(kind);
                String named = part.bodyKey();
                if (!layout.part(kind).isBodyKey(named, manifest.version(), part.bodySha256())) {
                  String expected =
                      layout.bodyKey(kind, manifest.version(), part.bodySha256()).value();
                  throw new SnapshotFormatException(
                      where
                          + " names "
                          + kind.id()
                          + " body '"
                          + named
                          + "' for version "
                          + manifest.version()
                          + ", expected '"
                          + expected
                          + "'");
                }
              }
              return signed;
            });
  }
}
