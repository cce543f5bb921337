package io.ballast.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The heap of a node as its own JVM reports it: the node runs with {@link #jvmOption()}, which logs
 * every collection with the heap before and after it, and {@link #collectFully} asks the node for a
 * full collection through {@code jcmd}, giving a figure that holds live objects only.
 *
 * <p>Chosen over sampling the used heap (JMX, {@code jcmd GC.heap_info}): a sample counts garbage
 * not yet collected and can miss a peak between two samples, while the log has every collection the
 * node made, written by the node itself, with no agent, port or thread of ours inside it.
 */
final class GcLog {

  /**
   * {@code [12.345s][info][gc] GC(7) Pause Young (Normal) (G1 Evacuation Pause) 40M->9M(64M) …}.
   * Only young and full pauses: they free memory, so the figure after them is what survived. A
   * remark or cleanup pause logs the heap in use, garbage included.
   */
  private static final Pattern PAUSE =
      Pattern.compile(
          "\\]\\[gc\\s*\\] GC\\((\\d+)\\) (Pause (?:Young|Full).*?) (\\d+)M->(\\d+)M\\((\\d+)M\\)");

  private static final Duration JCMD_TIMEOUT = Duration.ofSeconds(30);

  private final Path file;

  GcLog(Path file) {
    this.file = file;
  }

  /** The option that makes a JVM write this log (uptime, level and tags decorate each line). */
  String jvmOption() {
    return "-Xlog:gc:file=" + file;
  }

  /** One collection: its number in the JVM, what kind and why, and the heap in MiB around it. */
  record Collection(long id, String pause, long beforeMiB, long afterMiB, long committedMiB) {

    boolean isFull() {
      return pause.startsWith("Pause Full");
    }

    @Override
    public String toString() {
      return "GC(%d) %s %dM->%dM(%dM)".formatted(id, pause, beforeMiB, afterMiB, committedMiB);
    }
  }

  /** Every collection logged so far, in order. */
  List<Collection> collections() {
    List<String> lines;
    try {
      lines = Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException("could not read the GC log " + file, e);
    }
    List<Collection> collections = new ArrayList<>();
    for (String line : lines) {
      Matcher pause = PAUSE.matcher(line);
      if (pause.find()) {
        collections.add(
            new Collection(
                Long.parseLong(pause.group(1)),
                pause.group(2),
                Long.parseLong(pause.group(3)),
                Long.parseLong(pause.group(4)),
                Long.parseLong(pause.group(5))));
      }
    }
    return collections;
  }

  /**
   * Runs {@code jcmd <pid> GC.run} (a full collection, logged as "Diagnostic Command") and returns
   * its entry in the log: the figure after it is the live heap, comparable from one call to the
   * next.
   */
  Collection collectFully(BallastNode node) {
    long lastId = collections().stream().mapToLong(Collection::id).max().orElse(-1);
    runJcmd(node);
    return Await.until(
        "a full collection after GC(" + lastId + ") in " + file,
        JCMD_TIMEOUT,
        Duration.ofMillis(50),
        () -> collections().stream().filter(c -> c.id() > lastId && c.isFull()).findFirst(),
        () -> node.describeLog(20));
  }

  private static void runJcmd(BallastNode node) {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    List<String> command = List.of(jcmd.toString(), Long.toString(node.pid()), "GC.run");
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      if (!process.waitFor(JCMD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new AssertionError(command + " did not finish within " + JCMD_TIMEOUT);
      }
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (process.exitValue() != 0) {
        throw new AssertionError(command + " exited with " + process.exitValue() + ": " + output);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while running " + command, e);
    }
  }
}
