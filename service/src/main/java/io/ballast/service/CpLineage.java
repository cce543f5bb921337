package io.ballast.service;

import io.ballast.fs.DurableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The lineage id written into every export: a UUID made once and kept in {@code
 * <data_dir>/cp-lineage}. A stand-in until the store carries its own lineage; this class is the one
 * place {@link Node} takes it from.
 */
final class CpLineage {

  static final String FILE = "cp-lineage";

  private CpLineage() {}

  static Supplier<String> persistedIn(Path dataDir) {
    Path file = dataDir.resolve(FILE);
    try {
      if (Files.exists(file)) {
        String id = Files.readString(file, StandardCharsets.US_ASCII).trim();
        UUID.fromString(id); // refuses a damaged file rather than exporting under it
        return () -> id;
      }
      String id = UUID.randomUUID().toString();
      DurableFiles.replace(file, out -> out.write(id.getBytes(StandardCharsets.US_ASCII)));
      return () -> id;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create " + file, e);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(file + " does not hold a lineage id (a UUID)", e);
    }
  }
}
