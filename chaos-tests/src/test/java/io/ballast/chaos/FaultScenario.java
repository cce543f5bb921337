package io.ballast.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.chaos.ClusterFixture.ControlPlane;
import io.ballast.chaos.ClusterFixture.DataPlane;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What every row of the fault matrix shares: a cluster with routes that exist before the fault, a
 * load of at least 200 requests/s on them, and a sampler of the data plane's {@code /status}. At
 * the end {@link #assertGeneralCriteria()} checks the criteria every row has: no failed request and
 * a served version that never went down. Measured figures are printed as {@code [fault-figure]}
 * lines, which docs/faults.md quotes.
 */
final class FaultScenario implements AutoCloseable {

  /** Routes /r0 .. /r{EXISTING_ROUTES - 1} exist before any fault. */
  static final int EXISTING_ROUTES = 5;

  /** The storage poll interval of the chaos data planes (Configs), P in the matrix. */
  static final Duration P = Duration.ofSeconds(1);

  /** Bounds a loop or sampler that a failed test leaves behind. */
  static final Duration MAX_RUN = Duration.ofMinutes(4);

  final ClusterFixture cluster;
  private int nextRoute = 100;
  private LoadLoop load;
  private StatusSampler sampler;

  FaultScenario(ClusterFixture cluster) {
    this.cluster = cluster;
  }

  /** Creates /r0 .. /r4 through {@code cp}'s Admin API. */
  void createExistingRoutes(ControlPlane cp) {
    for (int i = 0; i < EXISTING_ROUTES; i++) {
      putRoute(cp, "r" + i);
    }
  }

  /**
   * Creates a route that did not exist before the fault, {@code r100}, {@code r101}, … (the test
   * upstream answers {@code /r<n>}); returns its path.
   */
  String putNewRoute(ControlPlane cp) {
    String id = "r" + nextRoute++;
    putRoute(cp, id);
    return "/" + id;
  }

  /** PUT route {@code id} on uri {@code /id}; fails unless the Admin API answers 2xx. */
  void putRoute(ControlPlane cp, String id) {
    Http.Response response = cp.admin().putRoute(id, "/" + id, cluster.upstream().hostPort());
    assertThat(response.isSuccess()).as("PUT route %s: %s", id, response).isTrue();
  }

  /** Waits until {@code dp} answers 200 on {@code path}; returns how long that took. */
  Duration awaitServed(DataPlane dp, String path, Duration timeout) {
    Instant from = Instant.now();
    Await.until(
        dp.node().name() + " to serve " + path,
        timeout,
        ClusterFixture.POLL,
        () -> Http.get(dp.url(path)).status() == 200 ? Optional.of(true) : Optional.empty(),
        () -> cluster.describeNodes() + cluster.describeStorage());
    return Duration.between(from, Instant.now());
  }

  /** Starts the load on the existing routes and the status sampler of {@code dp}. */
  void startWatching(DataPlane dp) {
    for (int i = 0; i < EXISTING_ROUTES; i++) {
      awaitServed(dp, "/r" + i, ClusterFixture.WAIT_TIMEOUT);
    }
    List<String> urls = new ArrayList<>();
    for (int i = 0; i < EXISTING_ROUTES; i++) {
      urls.add(dp.url("/r" + i));
    }
    sampler = StatusSampler.start(dp.node(), MAX_RUN);
    load = LoadLoop.start(urls, MAX_RUN);
  }

  /** Starts only the sampler, for rows without traffic (a node that is not serving yet). */
  StatusSampler startSampling(BallastNode node) {
    sampler = StatusSampler.start(node, MAX_RUN);
    return sampler;
  }

  StatusSampler sampler() {
    return sampler;
  }

  LoadLoop load() {
    return load;
  }

  /** 0 failed requests on existing routes at ≥ 200 req/s; the served version never went down. */
  void assertGeneralCriteria() {
    if (load != null) {
      load.stopAndAssertNoFailure();
      figure("load", load.toString());
    }
    if (sampler != null) {
      sampler.stop();
      sampler.assertVersionNeverDecreased();
    }
  }

  /** A measured figure, in the output for docs/faults.md. */
  static void figure(String row, String text) {
    System.out.println("[fault-figure] " + row + ": " + text);
  }

  static String seconds(Duration duration) {
    return String.format(java.util.Locale.ROOT, "%.1f s", duration.toMillis() / 1000.0);
  }

  /** Open file descriptors of a process (Linux), for leak checks. */
  static long openFiles(long pid) {
    try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      return fds.count();
    } catch (IOException e) {
      throw new UncheckedIOException("could not list the open files of " + pid, e);
    }
  }

  /** Threads of a process (Linux), for leak checks. */
  static long threads(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("Threads:")) {
          return Long.parseLong(line.substring("Threads:".length()).trim());
        }
      }
      throw new IllegalStateException("no Threads line for " + pid);
    } catch (IOException e) {
      throw new UncheckedIOException("could not read the status of " + pid, e);
    }
  }

  @Override
  public void close() {
    if (load != null) {
      load.stop();
    }
    if (sampler != null) {
      sampler.stop();
    }
    cluster.close();
  }
}
