package io.ballast.snapshot;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/** Size and SHA-256 of snapshot bodies on disk. */
public final class SnapshotFiles {

  private SnapshotFiles() {}

  /** The size and SHA-256 of {@code file}; the counts are empty (they need the content). */
  public static BodyStats digest(Path file) {
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
    long size = 0;
    byte[] buffer = new byte[64 * 1024];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        sha256.update(buffer, 0, n);
        size += n;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read snapshot body " + file, e);
    }
    return new BodyStats(size, HexFormat.of().formatHex(sha256.digest()), Map.of());
  }

  /**
   * @throws SnapshotIntegrityException when {@code body}'s size or SHA-256 differs from the
   *     manifest's
   */
  public static void verify(Path body, SnapshotManifest manifest) {
    BodyStats actual = digest(body);
    if (actual.size() != manifest.bodySize() || !actual.sha256Hex().equals(manifest.bodySha256())) {
      throw new SnapshotIntegrityException(
          "snapshot body "
              + manifest.bodyKey()
              + " (version "
              + manifest.version()
              + ") does not match its manifest: expected size "
              + manifest.bodySize()
              + " sha256 "
              + manifest.bodySha256()
              + ", got size "
              + actual.size()
              + " sha256 "
              + actual.sha256Hex());
    }
  }
}
