package io.ballast.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A server started as a separate process on one loopback port, its output appended to a log file.
 * It is registered with {@link ProcessRegistry}, so nothing outlives the test JVM; {@link #close()}
 * kills it by PID. {@link #restart()} runs the same command again, on the same port and data.
 */
public final class ServerProcess implements AutoCloseable {

  private static final Duration POLL = Duration.ofMillis(50);
  private static final Duration STOP_GRACE = Duration.ofSeconds(10);

  private final String name;
  private final List<String> command;
  private final Path workDir;
  private final Path log;
  private final int port;
  private final Duration readyTimeout;
  private Process process;

  private ServerProcess(
      String name, List<String> command, Path workDir, Path log, int port, Duration readyTimeout) {
    this.name = name;
    this.command = List.copyOf(command);
    this.workDir = workDir;
    this.log = log;
    this.port = port;
    this.readyTimeout = readyTimeout;
  }

  /**
   * Starts {@code command} in {@code workDir} and returns once {@code port} accepts connections.
   *
   * @throws AssertionError with the log's tail when the process exits or the port stays closed
   */
  public static ServerProcess start(
      String name, List<String> command, Path workDir, Path log, int port, Duration readyTimeout) {
    ServerProcess server = new ServerProcess(name, command, workDir, log, port, readyTimeout);
    server.launch();
    return server;
  }

  public String name() {
    return name;
  }

  public int port() {
    return port;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL, then waits until the process is gone. */
  public void kill() {
    if (process != null) {
      ProcessRegistry.kill(process);
    }
  }

  /** SIGTERM, so the server can flush; SIGKILL if it has not exited within 10 s. */
  public void stop() {
    process.destroy();
    try {
      if (!process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        kill();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill();
    }
    ProcessRegistry.unregister(process);
  }

  /** Kills the process if it runs, then starts the same command on the same port. */
  public void restart() {
    kill();
    launch();
  }

  @Override
  public void close() {
    kill();
  }

  /** The last lines of the log, headed by its path, for failure messages. */
  public String describeLog(int lines) {
    try {
      List<String> all =
          Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
      return "--- last "
          + lines
          + " lines of "
          + log
          + " ---\n"
          + String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(could not read " + log + ": " + e + ")";
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + (process == null ? "-" : process.pid()) + ", port " + port + ")";
  }

  private void launch() {
    try {
      Files.createDirectories(workDir);
      Files.writeString(
          log,
          "=== " + Instant.now() + " test starts " + name + ": " + command + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
      process =
          new ProcessBuilder(command)
              .directory(workDir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + name + ": " + command, e);
    }
    ProcessRegistry.register(process);
    try {
      awaitPort();
    } catch (RuntimeException | AssertionError e) {
      kill();
      throw e;
    }
  }

  private void awaitPort() {
    long deadline = System.nanoTime() + readyTimeout.toNanos();
    while (!accepts()) {
      if (!process.isAlive()) {
        throw new AssertionError(
            this
                + " exited with code "
                + process.exitValue()
                + " before listening\n"
                + describeLog(40));
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            this + " did not listen within " + readyTimeout.toMillis() + " ms\n" + describeLog(40));
      }
      try {
        Thread.sleep(POLL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + this, e);
      }
    }
  }

  private boolean accepts() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** {@code <java.home>/bin/java}: the servers run on the JVM that runs the tests. */
  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}
