package io.ballast.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The service jar laid out as README's "Running a node" section launches it: extracted once with
 * Spring Boot's {@code -Djarmode=tools extract} into {@code ballast.jar} beside {@code lib/}, so
 * that {@code java -jar} loads classes from plain jars on the class path rather than through the
 * nested-jar loader (seconds of a start on a busy host). The chaos tests run the nodes this way
 * because that is the launch the project tells its users to use.
 */
final class ExtractedJar {

  private static final long EXTRACT_TIMEOUT_SECONDS = 120;

  private static Path extracted;

  private ExtractedJar() {}

  /**
   * {@code <destination>/ballast.jar}, extracted from {@code fatJar} on the first call of this test
   * run; {@code fatJar} itself when it does not exist, so that starting a node says which jar is
   * missing.
   */
  static synchronized Path of(Path fatJar, Path destination) {
    if (!Files.isRegularFile(fatJar)) {
      return fatJar;
    }
    if (extracted == null) {
      extract(fatJar, destination);
      extracted = destination.resolve(fatJar.getFileName());
    }
    return extracted;
  }

  private static void extract(Path fatJar, Path destination) {
    Path log = destination.resolveSibling(destination.getFileName() + "-extract.log");
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Djarmode=tools",
            "-jar",
            fatJar.toString(),
            "extract",
            "--force",
            "--destination",
            destination.toString());
    try {
      Files.createDirectories(destination.getParent());
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      if (!process.waitFor(EXTRACT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(
            "extracting " + fatJar + " took more than " + EXTRACT_TIMEOUT_SECONDS + " s");
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException(
            "extracting "
                + fatJar
                + " failed (exit "
                + process.exitValue()
                + "): "
                + Files.readString(log, StandardCharsets.UTF_8).strip());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not extract " + fatJar + " into " + destination, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while extracting " + fatJar, e);
    }
  }
}
