package io.ballast.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.chaos.ClusterFixture.ControlPlane;
import io.ballast.chaos.ClusterFixture.DataPlane;
import io.ballast.testkit.FaultProxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Storage fails under a control plane and a storage-only data plane: it answers 500s, hangs, resets
 * connections, and is killed outright. Through each fault the control plane takes writes and says
 * why its export fails, the data plane keeps serving what it has and says why its poll fails, and
 * once storage is back every change made in the meantime reaches the data plane.
 */
class StorageOutageTest {

  private static final Duration RECOVERY_TIMEOUT = Duration.ofSeconds(30);

  @TempDir Path tmp;

  private ClusterFixture cluster;

  @AfterEach
  void killNodes() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void dataPlaneKeepsServingAndNoChangeIsLostAcrossStorageFaults() {
    S3ProxyStorage storage = S3ProxyStorage.startBehindFaultProxy(tmp.resolve("storage"));
    cluster = new ClusterFixture(tmp, storage);
    String upstream = cluster.upstream().hostPort();
    ControlPlane cp = cluster.controlPlane("cp");
    cp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    DataPlane dp = cluster.standaloneDataPlane("dp");
    assertThat(cp.admin().putRoute("r0", "/r0", upstream).isSuccess()).isTrue();
    dp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    awaitServed(dp, "/r0");

    int route = 0;
    for (FaultProxy.Mode fault :
        new FaultProxy.Mode[] {
          FaultProxy.Mode.HTTP_500, FaultProxy.Mode.HANG, FaultProxy.Mode.RESET
        }) {
      storage.faults().mode(fault);
      String path = "/r" + ++route;
      assertThat(cp.admin().putRoute("r" + route, path, upstream).isSuccess())
          .as("the Admin API takes writes while storage is %s", fault)
          .isTrue();
      awaitError(cp, "/storage/export/backends/0/last_error", fault);
      awaitError(dp, "/storage/backends/0/last_error", fault);
      assertServes(dp, route - 1);

      storage.faults().mode(FaultProxy.Mode.PASS);
      awaitServed(dp, path);
    }

    storage.server().kill();
    String path = "/r" + ++route;
    assertThat(cp.admin().putRoute("r" + route, path, upstream).isSuccess()).isTrue();
    awaitError(cp, "/storage/export/backends/0/last_error", "killed");
    awaitError(dp, "/storage/backends/0/last_error", "killed");
    assertServes(dp, route - 1);
    storage.server().restart();
    awaitServed(dp, path);
    assertServes(dp, route);
    // The DP can serve the new version before the CP's export has written every key: the
    // manifest may land while a later pointer write meets the restarting server and waits for
    // the next tick. The export must still recover by itself.
    Await.until(
        "the CP's export to recover after the storage restart",
        RECOVERY_TIMEOUT,
        ClusterFixture.POLL,
        () ->
            cp.node().status().at("/storage/export/backends/0/last_error").isNull()
                ? Optional.of(true)
                : Optional.empty(),
        () -> cp.node().status().toString());
  }

  /** Every route r0..r{last} answers 200 through the data plane. */
  private void assertServes(DataPlane dp, int last) {
    for (int i = 0; i <= last; i++) {
      Http.Response response = Http.get(dp.url("/r" + i));
      assertThat(response.status())
          .as("GET /r%d through the data plane: %s\n%s", i, response, dp.node().describeLog(30))
          .isEqualTo(200);
    }
  }

  private void awaitServed(DataPlane dp, String path) {
    Await.until(
        dp.node().name() + " to serve " + path,
        RECOVERY_TIMEOUT,
        ClusterFixture.POLL,
        () -> Http.get(dp.url(path)).status() == 200 ? Optional.of(true) : Optional.empty(),
        () -> cluster.describeNodes() + cluster.describeStorage());
  }

  private void awaitError(ClusterFixture.ControlPlane cp, String pointer, Object fault) {
    awaitError(cp.node(), pointer, fault);
  }

  private void awaitError(DataPlane dp, String pointer, Object fault) {
    awaitError(dp.node(), pointer, fault);
  }

  private void awaitError(BallastNode node, String pointer, Object fault) {
    Await.until(
        node.name() + " to report a storage error at " + pointer + " while storage is " + fault,
        RECOVERY_TIMEOUT,
        ClusterFixture.POLL,
        () -> {
          JsonNode error = node.status().at(pointer);
          return error.isString() && !error.asString().isBlank()
              ? Optional.of(error.asString())
              : Optional.empty();
        },
        () -> node.describeLog(30));
  }
}
