package io.ballast.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * One Ballast node: the built service jar, extracted ({@link ExtractedJar}), run with {@code java
 * -jar} in its own folder, with its own {@code config.yaml} and {@code node.log}. {@link
 * #restart()} starts it again with the same configuration and data directory.
 */
public final class BallastNode implements AutoCloseable {

  /** Set by chaos-tests/pom.xml (surefire) to service/target/ballast.jar. */
  public static final String JAR_PROPERTY = "ballast.jar";

  /** Set by chaos-tests/pom.xml: where the service jar is extracted for this test run. */
  public static final String EXTRACTED_PROPERTY = "ballast.extracted";

  /** Every node gets the heap of a small production data plane unless a test asks for more. */
  private static final String DEFAULT_HEAP = "-Xmx256m";

  private final String name;
  private final Path jar;
  private final Path dir;
  private final int statusPort;
  private final Path configFile;
  private final Path log;
  private List<String> jvmOptions = List.of();
  private JavaProcess process;

  /**
   * Writes {@code configYaml} to {@code <dir>/config.yaml}; does not start anything.
   *
   * @param statusPort the port of the node's {@code apisix.status} listener in {@code configYaml}
   */
  public BallastNode(String name, Path jar, Path dir, int statusPort, String configYaml) {
    this.name = name;
    this.jar = jar;
    this.dir = dir;
    this.statusPort = statusPort;
    this.configFile = dir.resolve("config.yaml");
    this.log = dir.resolve("node.log");
    try {
      Files.createDirectories(dir);
      Files.writeString(configFile, configYaml, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("could not write " + configFile, e);
    }
  }

  /** A node running the jar named by the {@value #JAR_PROPERTY} system property. */
  public static BallastNode of(String name, Path dir, int statusPort, String configYaml) {
    return new BallastNode(name, serviceJar(), dir, statusPort, configYaml);
  }

  static Path serviceJar() {
    String jar = System.getProperty(JAR_PROPERTY);
    if (jar == null || jar.isBlank()) {
      throw new IllegalStateException(
          "system property "
              + JAR_PROPERTY
              + " is not set; it names the service jar (chaos-tests/pom.xml sets it)");
    }
    // The launch README's "Running a node" section gives users: the jar extracted, beside lib/.
    return ExtractedJar.of(
        Path.of(jar), Path.of(System.getProperty(EXTRACTED_PROPERTY, jar + ".d")));
  }

  /**
   * JVM options for the next start, placed after the default {@value #DEFAULT_HEAP} so that a later
   * {@code -Xmx} given here wins.
   */
  public BallastNode withJvmOptions(String... options) {
    this.jvmOptions = List.of(options);
    return this;
  }

  /**
   * Runs the node's clock {@code offset} ahead (negative: behind) of the machine's, through the
   * {@code ballast.clock_offset} system property, for clock-skew faults; replaces earlier options.
   */
  public BallastNode withClockOffset(Duration offset) {
    return withJvmOptions("-Dballast.clock_offset=" + offset);
  }

  public BallastNode start() {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(name + " is already running: " + process);
    }
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          "cannot start "
              + name
              + ": service jar "
              + jar.toAbsolutePath().normalize()
              + " does not exist (build it first: mvn -pl service -am package -DskipTests)");
    }
    List<String> args = new ArrayList<>();
    args.add(DEFAULT_HEAP);
    args.addAll(jvmOptions);
    args.addAll(List.of("-jar", jar.toString(), "-c", configFile.toString()));
    process = JavaProcess.start(name, dir, log, args);
    return this;
  }

  /** kill -9: no shutdown hooks, no flush. */
  public void kill() {
    if (process != null) {
      process.kill();
    }
  }

  /**
   * {@code kill -STOP}: the process keeps its sockets open but answers nothing, as a hung JVM (a
   * long GC pause, a deadlock) does. {@link #resume()} lets it run on.
   */
  public void suspend() {
    signal("STOP");
  }

  /** {@code kill -CONT} after {@link #suspend()}. */
  public void resume() {
    signal("CONT");
  }

  private void signal(String signal) {
    long pid = pid();
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start();
      if (!kill.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + pid + " failed for " + name);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not run kill -" + signal + " " + pid, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while signalling " + name, e);
    }
  }

  /** SIGTERM, then SIGKILL after 10 s. */
  public void stop() {
    if (process != null) {
      process.stop();
    }
  }

  /** Rewrites {@code config.yaml} with {@code change} applied, for the next start. */
  public BallastNode reconfigure(java.util.function.UnaryOperator<String> change) {
    try {
      Files.writeString(
          configFile,
          change.apply(Files.readString(configFile, StandardCharsets.UTF_8)),
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("could not rewrite " + configFile, e);
    }
    return this;
  }

  /** Starts again with the same configuration file and data directory; the node must be down. */
  public BallastNode restart() {
    return start();
  }

  /** Waits until {@code GET /status/ready} answers 200. */
  public BallastNode awaitReady(Duration timeout) {
    requireStarted().awaitHttpOk(statusUrl() + "/ready", timeout);
    return this;
  }

  /** The parsed {@code GET /status}; fails with the answer and the log tail unless it is 200. */
  public JsonNode status() {
    Http.Response response = Http.get(statusUrl());
    if (response.status() != 200) {
      throw new AssertionError(
          name + ": GET " + statusUrl() + " answered " + response + "\n" + describeLog(40));
    }
    return response.json();
  }

  public List<String> logTail(int lines) {
    return requireStarted().logTail(lines);
  }

  /** The log tail headed by the log's path and the process state, for failure messages. */
  public String describeLog(int lines) {
    return process == null
        ? name + " was never started"
        : process + "\n" + process.describeLog(lines);
  }

  public String statusUrl() {
    return "http://127.0.0.1:" + statusPort + "/status";
  }

  public String name() {
    return name;
  }

  public Path dir() {
    return dir;
  }

  /** The operating-system id of the current run's process, for {@code jcmd}. */
  public long pid() {
    return requireStarted().pid();
  }

  public boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** When the current run's process was started. */
  public Instant startedAt() {
    return requireStarted().startedAt();
  }

  private JavaProcess requireStarted() {
    if (process == null) {
      throw new IllegalStateException(name + " was never started");
    }
    return process;
  }

  /** Kills the node; for try-with-resources and @AfterEach. */
  @Override
  public void close() {
    kill();
  }

  @Override
  public String toString() {
    return process == null ? name + " (not started)" : process.toString();
  }
}
