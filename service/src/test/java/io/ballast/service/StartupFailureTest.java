package io.ballast.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that cannot start says why in one line on stderr and exits with code 2, with no stack
 * trace on either stream unless {@code --debug} asks for one. Each case runs {@link
 * BallastApplication} in a JVM of its own, as a user runs the jar.
 */
class StartupFailureTest {

  private static final long EXIT_TIMEOUT_SECONDS = 60;

  @TempDir Path dir;

  /** What a finished child process left behind. */
  private record Outcome(int exitCode, List<String> stderr, String stdout) {}

  @Test
  void aConfigurationTypoIsOneLine() throws Exception {
    Outcome outcome = run(node("  node_listn: " + freePort() + "\n", ""));

    assertOneLineFailure(
        outcome,
        "ballast: configuration error: "
            + dir.resolve("config.yaml")
            + ": apisix.node_listn: unknown key; did you mean 'node_listen'?");
  }

  @Test
  void anUnknownLineageChoiceIsOneLine() throws Exception {
    Outcome outcome = run(node("", ""), "--lineage=newest");

    assertOneLineFailure(
        outcome, "ballast: --lineage=newest: expected --lineage=storage or --lineage=store");
  }

  @Test
  void aBadStorageBlockIsOneLine() throws Exception {
    Outcome outcome =
        run(
            node(
                "",
                "fallback_cp:\n  aws_s3:\n    region: eu-west-1\n    config_bucket: Not_A_Bucket\n"
                    + "    resource_bucket: ballast-resources\n"));

    assertOneLineFailure(
        outcome,
        "ballast: configuration error: "
            + dir.resolve("config.yaml")
            + ": fallback_cp.aws_s3.config_bucket: aws_s3 bucket 'Not_A_Bucket' is not a valid"
            + " bucket name (3 to 63 lower-case letters, digits, '.' and '-')");
  }

  @Test
  void aMissingBucketFolderStopsAControlPlaneInOneLine() throws Exception {
    Path storage = Files.createDirectories(dir.resolve("shared-storage"));
    Files.createDirectories(storage.resolve("ballast-config"));
    Outcome outcome =
        run(
            node(
                "",
                "fallback_cp:\n  filesystem:\n    path: "
                    + storage
                    + "\n    config_bucket: ballast-config\n"
                    + "    resource_bucket: ballast-resorces\n"));

    assertOneLineFailure(
        outcome,
        "ballast: configuration error: "
            + dir.resolve("config.yaml")
            + ": fallback_cp.filesystem.resource_bucket: filesystem bucket 'ballast-resorces' does"
            + " not exist: no folder "
            + storage.resolve("ballast-resorces")
            + " (buckets are never created; create the folder)");
    assertThat(storage.resolve("ballast-resorces")).doesNotExist();
  }

  @Test
  void aMissingBucketInTheListNamesItsEntry() throws Exception {
    Path first = Files.createDirectories(dir.resolve("first"));
    Files.createDirectories(first.resolve("c"));
    Files.createDirectories(first.resolve("r"));
    Outcome outcome =
        run(
            node(
                "",
                "fallback_cp:\n  backends:\n"
                    + "    - filesystem: {path: "
                    + first
                    + ", config_bucket: c, resource_bucket: r}\n"
                    + "    - filesystem: {path: "
                    + dir.resolve("unmounted")
                    + ", config_bucket: c, resource_bucket: r}\n"));

    assertOneLineFailure(
        outcome,
        "ballast: configuration error: "
            + dir.resolve("config.yaml")
            + ": fallback_cp.backends[1].filesystem.resource_bucket: filesystem bucket 'r' does"
            + " not exist: no folder "
            + dir.resolve("unmounted/r")
            + " (buckets are never created; create the folder)");
    assertThat(dir.resolve("unmounted")).doesNotExist();
  }

  @Test
  void anUnknownStorageKeyIsOneLine() throws Exception {
    Outcome outcome =
        run(
            node(
                "",
                "fallback_cp:\n  filesystem:\n    pth: storage\n    config_bucket: c\n"
                    + "    resource_bucket: r\n"));

    assertOneLineFailure(
        outcome,
        "ballast: configuration error: "
            + dir.resolve("config.yaml")
            + ": fallback_cp.filesystem.pth: unknown key; did you mean 'path'?");
  }

  @Test
  void aConfigurationErrorFoundWhilePartsStartIsOneLineToo() throws Exception {
    Outcome outcome =
        run(
            node(
                "", "plugin_attr:\n  prometheus:\n    export_addr: {ip: 127.0.0.1, prot: 9091}\n"));

    assertOneLineFailure(
        outcome,
        "ballast: configuration error: "
            + dir.resolve("config.yaml")
            + ": plugin_attr.prometheus.export_addr.prot: unknown key; did you mean 'port'?");
  }

  @Test
  void aPortInUseIsOneLineNamingTheListenerAndItsAddress() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      Outcome outcome =
          run(node("  node_listen:\n    - ip: 127.0.0.1\n      port: " + port + "\n", ""));

      assertOneLineFailure(
          outcome,
          "ballast: cannot start: apisix.node_listen 127.0.0.1:"
              + port
              + ": address already in use");
    }
  }

  @Test
  void debugAddsTheStackTrace() throws Exception {
    Path file = node("  node_listn: 9080\n", "");

    Outcome outcome = run(file, "--debug");

    assertThat(outcome.exitCode()).isEqualTo(2);
    assertThat(outcome.stderr().get(0)).contains("apisix.node_listn: unknown key");
    assertThat(outcome.stderr()).anyMatch(line -> line.startsWith("\tat "));
  }

  private static void assertOneLineFailure(Outcome outcome, String line) {
    assertThat(outcome.stderr()).containsExactly(line);
    assertThat(outcome.stdout()).doesNotContain("\tat ").doesNotContain("Exception");
    assertThat(outcome.exitCode()).isEqualTo(2);
  }

  /**
   * A traditional node on free loopback ports; {@code apisix} holds lines of the apisix block
   * (node_listen on a free port when empty), {@code topLevel} further top-level sections.
   */
  private Path node(String apisix, String topLevel) throws IOException {
    String yaml =
        "deployment:\n"
            + "  admin:\n"
            + "    admin_key:\n"
            + "      - {name: admin, key: a-key-for-this-test-only, role: admin}\n"
            + "    admin_listen: {ip: 127.0.0.1, port: "
            + freePort()
            + "}\n"
            + "apisix:\n"
            // Not APISIX's published keyring, which a node exporting to S3 refuses.
            + "  data_encryption: {keyring: [startup-failure-test-keyring]}\n"
            + "  status: {ip: 127.0.0.1, port: "
            + freePort()
            + "}\n"
            + (apisix.isEmpty()
                ? "  node_listen: [{ip: 127.0.0.1, port: " + freePort() + "}]\n"
                : apisix)
            + "ballast:\n"
            + "  data_dir: "
            + dir.resolve("data")
            + "\n"
            + topLevel;
    Path file = dir.resolve("config.yaml");
    Files.writeString(file, yaml);
    return file;
  }

  private Outcome run(Path file, String... extraArgs) throws Exception {
    Path stdout = dir.resolve("stdout.txt");
    Path stderr = dir.resolve("stderr.txt");
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                BallastApplication.class.getName(),
                "-c",
                file.toString()));
    command.addAll(List.of(extraArgs));
    Process process =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectOutput(stdout.toFile())
            .redirectError(stderr.toFile())
            .start();
    try {
      if (!process.waitFor(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new AssertionError(
            "the node did not exit within "
                + EXIT_TIMEOUT_SECONDS
                + " s; stdout:\n"
                + Files.readString(stdout));
      }
    } finally {
      process.destroyForcibly();
    }
    return new Outcome(
        process.exitValue(),
        Files.readAllLines(stderr, StandardCharsets.UTF_8),
        Files.readString(stdout, StandardCharsets.UTF_8));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
