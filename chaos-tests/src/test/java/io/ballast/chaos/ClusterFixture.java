package io.ballast.chaos;

import io.ballast.testkit.FreePorts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * The nodes of one test, on free ports, in folders under the test's temporary directory, sharing
 * one storage. {@link #close()} kills every node it started, the upstream and the storage server.
 */
final class ClusterFixture implements AutoCloseable {

  static final String ADMIN_KEY = "chaos-admin-key-0123456789";
  static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  static final Duration WAIT_TIMEOUT = Duration.ofSeconds(10);
  static final Duration POLL = Duration.ofMillis(50);

  final Path root;
  private final ClusterStorage storage;
  private final List<BallastNode> nodes = new ArrayList<>();
  private UpstreamServer upstream;
  private Optional<Configs.MutualTls> channelTls = Optional.empty();

  /** A cluster on the embedded default, a storage folder under {@code root}. */
  ClusterFixture(Path root) {
    this(root, FilesystemStorage.create(root.resolve("storage")));
  }

  /** A cluster on {@code storage}, which {@link #close()} closes. */
  ClusterFixture(Path root, ClusterStorage storage) {
    this.root = root;
    this.storage = storage;
  }

  /** Control planes and data planes made from now on talk over mutual TLS with {@code files}. */
  ClusterFixture withMutualTls(Configs.MutualTls files) {
    channelTls = Optional.of(files);
    return this;
  }

  ClusterStorage storage() {
    return storage;
  }

  UpstreamServer upstream() {
    if (upstream == null) {
      upstream = UpstreamServer.start();
    }
    return upstream;
  }

  ControlPlane controlPlane(String name) {
    int adminPort = FreePorts.next();
    int confPort = FreePorts.next();
    int statusPort = FreePorts.next();
    Path dir = root.resolve(name);
    BallastNode node =
        track(
            BallastNode.of(
                name,
                dir,
                statusPort,
                Configs.controlPlane(
                    dir, storage, ADMIN_KEY, adminPort, confPort, statusPort, channelTls)));
    return new ControlPlane(node, new AdminApi(adminPort, ADMIN_KEY), confPort);
  }

  DataPlane dataPlane(String name, ControlPlane cp) {
    int proxyPort = FreePorts.next();
    int statusPort = FreePorts.next();
    Path dir = root.resolve(name);
    BallastNode node =
        track(
            BallastNode.of(
                name,
                dir,
                statusPort,
                Configs.dataPlane(dir, storage, cp.confPort(), proxyPort, statusPort, channelTls)));
    return new DataPlane(node, proxyPort);
  }

  DataPlane standaloneDataPlane(String name) {
    int proxyPort = FreePorts.next();
    int statusPort = FreePorts.next();
    Path dir = root.resolve(name);
    BallastNode node =
        track(
            BallastNode.of(
                name,
                dir,
                statusPort,
                Configs.standaloneDataPlane(dir, storage, proxyPort, statusPort)));
    return new DataPlane(node, proxyPort);
  }

  /** Counts {@code node} among the nodes {@link #close()} kills. */
  BallastNode track(BallastNode node) {
    nodes.add(node);
    return node;
  }

  /** The log tails of every node, for failure messages. */
  String describeNodes() {
    StringBuilder out = new StringBuilder();
    for (BallastNode node : nodes) {
      out.append(node.describeLog(30)).append('\n');
    }
    return out.toString();
  }

  /** Fails naming the node and the line if any node's log holds a storage credential. */
  void assertNoSecretInLogs() {
    for (BallastNode node : nodes) {
      for (String line : node.logTail(Integer.MAX_VALUE)) {
        for (String secret : storage.secrets()) {
          if (line.contains(secret)) {
            throw new AssertionError(
                node.name() + " logged a storage credential: " + line.replace(secret, "***"));
          }
        }
      }
    }
  }

  /** What the storage holds, for failure messages. */
  String describeStorage() {
    return storage.describe();
  }

  /** Kills every node (even when the test failed), stops the upstream and the storage. */
  @Override
  public void close() {
    AssertionError failure = null;
    for (BallastNode node : nodes) {
      try {
        node.kill();
      } catch (RuntimeException | AssertionError e) {
        failure = failure == null ? new AssertionError("could not kill every node") : failure;
        failure.addSuppressed(e);
      }
    }
    if (upstream != null) {
      upstream.close();
    }
    storage.close();
    if (failure != null) {
      throw failure;
    }
  }

  /** A control plane node and its Admin API. */
  record ControlPlane(BallastNode node, AdminApi admin, int confPort) {

    long storeRevision() {
      return requireLong(node, node.status(), "store_revision");
    }

    /** Waits until the export has written at least the store's current revision; returns it. */
    long awaitExported() {
      return Await.until(
          node.name() + " to export its store revision to storage",
          WAIT_TIMEOUT,
          POLL,
          () -> {
            JsonNode status = node.status();
            long revision = requireLong(node, status, "store_revision");
            JsonNode exported = status.at("/storage/export/backends/0/exported_version");
            return exported.isNumber() && exported.asLong() >= revision
                ? Optional.of(exported.asLong())
                : Optional.empty();
          },
          () -> node.describeLog(40));
    }
  }

  /** A data plane node and its proxy port. */
  record DataPlane(BallastNode node, int proxyPort) {

    String url(String path) {
      return "http://127.0.0.1:" + proxyPort + path;
    }

    /** Waits until the status has {@code expected} at {@code path}; returns the status. */
    JsonNode awaitStatus(String jsonPointer, String expected, Duration timeout) {
      return Await.until(
          node.name() + " status " + jsonPointer + " == " + expected,
          timeout,
          POLL,
          () -> {
            JsonNode status = node.status();
            String actual = status.at(jsonPointer).asString("");
            if (!expected.equals(actual)) {
              throw new AssertionError(jsonPointer + " is '" + actual + "' in " + status);
            }
            return Optional.of(status);
          },
          () -> node.describeLog(40));
    }
  }

  static long requireLong(BallastNode node, JsonNode json, String field) {
    JsonNode value = json.path(field);
    if (!value.isNumber()) {
      throw new AssertionError(node.name() + ": no number '" + field + "' in " + json);
    }
    return value.asLong();
  }
}
