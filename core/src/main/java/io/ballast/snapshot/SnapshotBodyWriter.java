package io.ballast.snapshot;

import io.ballast.resource.Json;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;
import tools.jackson.core.JsonGenerator;

/**
 * Writes a snapshot body as a stream: gzip-compressed, one canonical JSON entry per line, entries
 * in {@link SnapshotEntry#CANONICAL_ORDER}. The size and SHA-256 of the compressed bytes are
 * computed as they pass, so the body is never held in memory.
 *
 * <p>The gzip header carries no file name and a zero modification time, so the same entries give
 * the same bytes (with the same JDK's zlib).
 */
public final class SnapshotBodyWriter implements Closeable {

  private final DigestingStream digesting;
  private final GZIPOutputStream gzip;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream(1024);
  private final Map<String, Long> counts = new TreeMap<>();
  private SnapshotEntry previous;
  private BodyStats stats;

  /** Writes to {@code out}, which {@link #close()} closes. */
  public SnapshotBodyWriter(OutputStream out) {
    this.digesting = new DigestingStream(out);
    try {
      this.gzip = new GZIPOutputStream(digesting, 64 * 1024);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the gzip stream of a snapshot body", e);
    }
  }

  /** Appends one entry; it must come strictly after the previous one in canonical order. */
  public void write(SnapshotEntry entry) {
    if (stats != null) {
      throw new IllegalStateException("snapshot body already finished");
    }
    if (previous != null && SnapshotEntry.CANONICAL_ORDER.compare(previous, entry) >= 0) {
      throw new IllegalArgumentException(
          "snapshot entry " + entry + " is not after " + previous + " in canonical order");
    }
    line.reset();
    try (JsonGenerator generator = Json.mapper().createGenerator(line)) {
      generator.writeStartObject();
      generator.writeStringProperty("type", entry.type());
      generator.writeStringProperty("id", entry.id());
      generator.writeName("value");
      Json.mapper().writeTree(generator, entry.value());
      generator.writeEndObject();
    }
    line.write('\n');
    try {
      line.writeTo(gzip);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write snapshot entry " + entry, e);
    }
    counts.merge(entry.type(), 1L, Long::sum);
    previous = entry;
  }

  /** Ends the gzip stream and returns what the manifest must record; the stream stays open. */
  public BodyStats finish() {
    if (stats == null) {
      try {
        gzip.finish();
        digesting.flush();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot finish a snapshot body", e);
      }
      stats = new BodyStats(digesting.size, digesting.hex(), counts);
    }
    return stats;
  }

  @Override
  public void close() throws IOException {
    gzip.close();
  }

  /** Counts and hashes the compressed bytes on their way out. */
  private static final class DigestingStream extends FilterOutputStream {
    private final MessageDigest sha256;
    private long size;

    DigestingStream(OutputStream out) {
      super(out);
      try {
        this.sha256 = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("the JDK has no SHA-256", e);
      }
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      sha256.update((byte) b);
      size++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      sha256.update(b, off, len);
      size += len;
    }

    String hex() {
      return HexFormat.of().formatHex(sha256.digest());
    }
  }
}
