package io.ballast.snapshot;

import io.ballast.resource.Json;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Reads a snapshot body one line at a time, so memory holds one entry whatever the body's size. A
 * line that is not an entry, or an entry out of canonical order, fails with a {@link
 * SnapshotFormatException} naming the line number.
 */
public final class SnapshotBodyReader implements Closeable {

  private final BufferedReader lines;
  private long lineNumber;
  private SnapshotEntry previous;

  /** Reads the gzip-compressed body {@code gzipBody}, which {@link #close()} closes. */
  public SnapshotBodyReader(InputStream gzipBody) {
    try {
      this.lines =
          new BufferedReader(
              new InputStreamReader(
                  new GZIPInputStream(gzipBody, 64 * 1024),
                  StandardCharsets.UTF_8
                      .newDecoder()
                      .onMalformedInput(CodingErrorAction.REPORT)
                      .onUnmappableCharacter(CodingErrorAction.REPORT)));
    } catch (IOException e) {
      throw new SnapshotFormatException(
          "snapshot body is not gzip-compressed: " + e.getMessage(), e);
    }
  }

  /** Streams every entry of {@code gzipBody} to {@code sink}, in body order. */
  public static void read(InputStream gzipBody, Consumer<SnapshotEntry> sink) {
    try (SnapshotBodyReader reader = new SnapshotBodyReader(gzipBody)) {
      for (SnapshotEntry entry = reader.next(); entry != null; entry = reader.next()) {
        sink.accept(entry);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close a snapshot body", e);
    }
  }

  /** The next entry, or {@code null} at the end of the body. */
  public SnapshotEntry next() {
    String text;
    try {
      text = lines.readLine();
    } catch (IOException e) {
      throw new SnapshotFormatException(
          "snapshot body line " + (lineNumber + 1) + ": cannot read: " + e.getMessage(), e);
    }
    if (text == null) {
      return null;
    }
    lineNumber++;
    SnapshotEntry entry = parse(text);
    if (previous != null && SnapshotEntry.CANONICAL_ORDER.compare(previous, entry) >= 0) {
      throw error("entry " + entry + " is not after " + previous + " in canonical order");
    }
    previous = entry;
    return entry;
  }

  /** The number of the line {@link #next()} returned last, counting from 1. */
  public long lineNumber() {
    return lineNumber;
  }

  private SnapshotEntry parse(String text) {
    JsonNode node;
    try {
      node = Json.mapper().readTree(text);
    } catch (JacksonException e) {
      throw error("not JSON: " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw error("not a JSON object");
    }
    JsonNode type = node.get("type");
    JsonNode id = node.get("id");
    JsonNode value = node.get("value");
    if (type == null || !type.isString() || type.stringValue().isEmpty()) {
      throw error("'type' is missing or not a non-empty string");
    }
    if (id == null || !id.isString() || id.stringValue().isEmpty()) {
      throw error("'id' is missing or not a non-empty string");
    }
    if (value == null) {
      throw error("'value' is missing");
    }
    return new SnapshotEntry(type.stringValue(), id.stringValue(), value);
  }

  private SnapshotFormatException error(String problem) {
    return new SnapshotFormatException("snapshot body line " + lineNumber + ": " + problem);
  }

  @Override
  public void close() throws IOException {
    lines.close();
  }
}
