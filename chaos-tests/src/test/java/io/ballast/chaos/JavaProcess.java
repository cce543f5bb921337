package io.ballast.chaos;

import io.ballast.testkit.ProcessRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One JVM started as a separate process from {@code <java.home>/bin/java}, its output (stdout and
 * stderr) appended to a log file. Registered with {@link ProcessRegistry} so that nothing outlives
 * the test run.
 */
public final class JavaProcess {

  private static final Duration STOP_GRACE = Duration.ofSeconds(10);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(50);

  private final String name;
  private final Process process;
  private final Path log;
  private final Instant startedAt;

  private JavaProcess(String name, Process process, Path log, Instant startedAt) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.startedAt = startedAt;
  }

  /**
   * Starts {@code java <args>} in {@code workDir}, appending its output to {@code log} after a
   * marker line, so that a restarted node keeps the log of its earlier runs.
   */
  public static JavaProcess start(String name, Path workDir, Path log, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(args);
    try {
      Files.createDirectories(workDir);
      Files.writeString(
          log,
          "=== " + Instant.now() + " harness starts " + name + ": " + command + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
      Instant startedAt = Instant.now();
      Process process =
          new ProcessBuilder(command)
              .directory(workDir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
      ProcessRegistry.register(process);
      return new JavaProcess(name, process, log, startedAt);
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + name + " in " + workDir, e);
    }
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public Instant startedAt() {
    return startedAt;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL (kill -9), then waits until the process is gone. */
  public void kill() {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    waitForExit(STOP_GRACE);
    ProcessRegistry.unregister(process);
  }

  /** SIGTERM; SIGKILL if the process has not exited after 10 s. */
  public void stop() {
    process.destroy();
    if (!waitForExit(STOP_GRACE)) {
      kill();
    }
    ProcessRegistry.unregister(process);
  }

  /**
   * Polls {@code url} until it answers 200. Fails early, with the log tail, if the process exits;
   * fails with the last answer and the log tail when {@code timeout} runs out.
   */
  public void awaitHttpOk(String url, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Http.Response last = null;
    while (true) {
      if (!process.isAlive()) {
        throw new AssertionError(
            name
                + " (pid "
                + pid()
                + ") exited with code "
                + process.exitValue()
                + " before "
                + url
                + " answered 200\n"
                + describeLog(40));
      }
      last = Http.get(url);
      if (last.status() == 200) {
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            name
                + " (pid "
                + pid()
                + ") did not answer 200 on "
                + url
                + " within "
                + timeout.toMillis()
                + " ms; last answer: "
                + last
                + "\n"
                + describeLog(40));
      }
      Await.sleep(POLL_INTERVAL);
    }
  }

  /** The exit code once the process has exited within {@code timeout}. */
  public Optional<Integer> awaitExit(Duration timeout) {
    return waitForExit(timeout) ? Optional.of(process.exitValue()) : Optional.empty();
  }

  public List<String> logTail(int lines) {
    try {
      if (!Files.exists(log)) {
        return List.of();
      }
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return all.subList(Math.max(0, all.size() - lines), all.size());
    } catch (IOException e) {
      return List.of("(could not read " + log + ": " + e + ")");
    }
  }

  /** The last lines of the log, headed by the log's path, for failure messages. */
  public String describeLog(int lines) {
    return "--- last " + lines + " lines of " + log + " ---\n" + String.join("\n", logTail(lines));
  }

  private boolean waitForExit(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for " + name + " to exit", e);
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + pid() + (isAlive() ? ", running)" : ", exited)");
  }
}
