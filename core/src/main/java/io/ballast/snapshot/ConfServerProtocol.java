package io.ballast.snapshot;

import java.time.Duration;

/**
 * The conf server's protocol, between a control plane that serves snapshots ({@code
 * conf_server.listen}, 9280) and the data planes that follow it. Two calls per change:
 *
 * <ul>
 *   <li>{@code GET /ballast/v1/snapshots/{kind}?wait=30s} with {@code If-None-Match: "<version>"}:
 *       a long poll answering the manifest (ETag = its version) as soon as a snapshot newer than
 *       that version exists, or 304 with the CP's own version as ETag when {@code wait} runs out;
 *   <li>{@code GET /ballast/v1/snapshots/{kind}/{version}}: the gzip body that manifest names, 404
 *       once it is no longer the newest (the next poll gets the newer one).
 * </ul>
 *
 * Both sides build and read these paths and ETags here, and nowhere else.
 */
public final class ConfServerProtocol {

  /** Where the snapshot endpoints live. */
  public static final String PATH = "/ballast/v1/snapshots";

  /** The query parameter of the long poll: how long to wait for a newer snapshot. */
  public static final String WAIT = "wait";

  /** The longest {@link #WAIT} a CP accepts. */
  public static final Duration MAX_WAIT = Duration.ofSeconds(60);

  /** A version lower than every snapshot's: what an unparseable ETag means. */
  public static final long NO_VERSION = -1;

  /**
   * Format 2: {@code GET /ballast/v2/export?wait=5s} with {@code If-None-Match: "<version>"}
   * answers the signed {@link ExportManifest} bytes (ETag = its version) as soon as a newer export
   * exists, or 304 with the CP's own version as ETag when {@code wait} runs out. Both answers carry
   * {@link #LINEAGE_HEADER} and the standard {@code Date} header. {@code GET
   * /ballast/v2/export/{version}/{kind}} answers that part's gzip body, 404 once no longer kept.
   */
  public static final String EXPORT_PATH = "/ballast/v2/export";

  /** The CP store's lineage, on every answer of {@link #EXPORT_PATH}. */
  public static final String LINEAGE_HEADER = "X-Ballast-Lineage";

  private ConfServerProtocol() {}

  /** The export long poll's path, waiting up to {@code wait} (whole seconds). */
  public static String exportPath(Duration wait) {
    return EXPORT_PATH + "?" + WAIT + "=" + wait.toSeconds() + "s";
  }

  /** The path of the body of {@code kind}'s part of export {@code version}. */
  public static String partPath(long version, SnapshotKind kind) {
    return EXPORT_PATH + "/" + version + "/" + kind.id();
  }

  /** The long poll's path for {@code kind}, waiting up to {@code wait} (whole seconds). */
  public static String manifestPath(SnapshotKind kind, Duration wait) {
    return PATH + "/" + kind.id() + "?" + WAIT + "=" + wait.toSeconds() + "s";
  }

  /** The path of the body of {@code kind}'s snapshot {@code version}. */
  public static String bodyPath(SnapshotKind kind, long version) {
    return PATH + "/" + kind.id() + "/" + version;
  }

  /** The ETag of a snapshot on this endpoint: its version, quoted. */
  public static String etagOf(long version) {
    return "\"" + version + "\"";
  }

  /** The version an ETag of {@link #etagOf} names; {@link #NO_VERSION} for any other value. */
  public static long versionOf(String etag) {
    if (etag == null || etag.length() < 3 || !etag.startsWith("\"") || !etag.endsWith("\"")) {
      return NO_VERSION;
    }
    try {
      return Long.parseLong(etag.substring(1, etag.length() - 1));
    } catch (NumberFormatException e) {
      return NO_VERSION;
    }
  }
}
