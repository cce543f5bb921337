package io.ballast.controlplane.store;

import io.ballast.resource.InvalidResourceException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Reads the store's newline-delimited JSON files one line at a time. */
final class JsonLines {

  /** What a read found: how many complete lines, and where the last one ended. */
  record Result(long lines, long completeBytes, boolean tornTail) {}

  /** Takes one parsed line; throws {@link IllegalArgumentException} when its content is wrong. */
  interface LineHandler {
    void accept(long lineNumber, JsonNode line);
  }

  private JsonLines() {}

  /**
   * Parses every newline-terminated line of {@code file}. A line counts only once its newline is
   * written, so a final segment without one (a write cut short by a crash) is reported as a torn
   * tail and not parsed. A complete line that is not JSON, or that {@code handler} rejects, throws
   * {@link IllegalStateException} naming the file and the line.
   */
  static Result read(Path file, JsonMapper mapper, LineHandler handler) throws IOException {
    long lineNumber = 0;
    long offset = 0;
    long completeBytes = 0;
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    byte[] chunk = new byte[64 * 1024];
    try (InputStream in = Files.newInputStream(file)) {
      int read;
      while ((read = in.read(chunk)) != -1) {
        int start = 0;
        for (int i = 0; i < read; i++) {
          if (chunk[i] != '\n') {
            continue;
          }
          line.write(chunk, start, i - start);
          start = i + 1;
          lineNumber++;
          completeBytes = offset + i + 1;
          parse(file, mapper, handler, lineNumber, line.toByteArray());
          line.reset();
        }
        line.write(chunk, start, read - start);
        offset += read;
      }
    }
    return new Result(lineNumber, completeBytes, line.size() > 0);
  }

  private static void parse(
      Path file, JsonMapper mapper, LineHandler handler, long lineNumber, byte[] bytes) {
    try {
      JsonNode node = mapper.readTree(bytes);
      if (node == null || !node.isObject()) {
        throw new IllegalArgumentException("expected a JSON object");
      }
      handler.accept(lineNumber, node);
    } catch (JacksonException e) {
      throw corrupt(file, lineNumber, "not valid JSON: " + e.getOriginalMessage(), e);
    } catch (InvalidResourceException e) {
      // The file is whole; its content is what this version of Ballast reads more strictly.
      throw new IllegalStateException(
          "store file "
              + file
              + " at line "
              + lineNumber
              + " holds a resource this version refuses: "
              + e.getMessage(),
          e);
    } catch (IllegalArgumentException e) {
      throw corrupt(file, lineNumber, e.getMessage(), e);
    }
  }

  private static IllegalStateException corrupt(
      Path file, long lineNumber, String what, Exception cause) {
    return new IllegalStateException(
        "corrupt store file " + file + " at line " + lineNumber + ": " + what, cause);
  }
}
