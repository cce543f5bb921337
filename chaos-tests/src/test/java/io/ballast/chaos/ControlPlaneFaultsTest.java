package io.ballast.chaos;

import static io.ballast.chaos.FaultScenario.figure;
import static io.ballast.chaos.FaultScenario.seconds;
import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.chaos.ClusterFixture.ControlPlane;
import io.ballast.chaos.ClusterFixture.DataPlane;
import io.ballast.testkit.FaultProxy;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The fault matrix's control-plane rows: a CP killed, cut off, hung with its socket open (a stalled
 * proxy and {@code kill -STOP}) and slow. A data plane reaches its CP through a loopback {@link
 * FaultProxy}, follows storage (a folder) when the CP is gone, and serves 250 requests/s on routes
 * that existed before the fault without failing one.
 */
class ControlPlaneFaultsTest {

  /** The CP heartbeat interval of the chaos data planes (Configs), H in the matrix. */
  static final Duration H = Duration.ofSeconds(1);

  /** The data plane's cap on its backoff between attempts to reach the CP. */
  static final Duration BACKOFF_CAP = Duration.ofSeconds(5);

  private static final Duration DETECTION_WAIT = Duration.ofSeconds(45);
  private static final Predicate<JsonNode> DISCONNECTED =
      status -> "disconnected".equals(status.at("/control_plane/state").asString(""));
  private static final Predicate<JsonNode> CONNECTED =
      status -> "connected".equals(status.at("/control_plane/state").asString(""));

  @TempDir Path tmp;

  private FaultScenario scenario;
  private ControlPlane cp;
  private FaultProxy confProxy;
  private DataPlane dp;

  @BeforeEach
  void startCluster() {
    scenario = new FaultScenario(new ClusterFixture(tmp));
    ClusterFixture cluster = scenario.cluster;
    cp = cluster.controlPlane("cp");
    cp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.createExistingRoutes(cp);
    cp.awaitExported();
    confProxy = cluster.confServerProxy(cp);
    dp = cluster.dataPlane("dp", confProxy);
    dp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    dp.awaitStatus("/control_plane/state", "connected", ClusterFixture.WAIT_TIMEOUT);
    scenario.startWatching(dp);
  }

  @AfterEach
  void stopCluster() {
    if (scenario != null) {
      scenario.close();
    }
  }

  @Test
  void controlPlaneKilledIsSeenAtOnceAndFollowedAgainWhenBack() {
    Instant killed = Instant.now();
    cp.node().kill();
    Duration seen = scenario.sampler().await("CP down", killed, DETECTION_WAIT, DISCONNECTED);
    figure(
        "cp kill -9",
        "down seen in " + seconds(seen) + " (3H = " + seconds(H.multipliedBy(3)) + ")");
    assertThat(seen).as("CP down seen").isLessThanOrEqualTo(H.multipliedBy(3));

    Await.sleep(Duration.ofSeconds(2));
    cp.node().restart().awaitReady(ClusterFixture.START_TIMEOUT);
    Instant back = Instant.now();
    Duration resynced =
        scenario.sampler().await("CP followed again", back, DETECTION_WAIT, CONNECTED);
    figure(
        "cp kill -9",
        "followed again "
            + seconds(resynced)
            + " after the CP was ready (H + backoff cap = "
            + seconds(H.plus(BACKOFF_CAP))
            + ")");
    assertThat(resynced)
        .as("resynced after the CP returned")
        .isLessThanOrEqualTo(H.plus(BACKOFF_CAP));
    String path = scenario.putNewRoute(cp);
    Duration served = scenario.awaitServed(dp, path, ClusterFixture.WAIT_TIMEOUT);
    figure("cp kill -9", "a write after the restart served in " + seconds(served));

    scenario.assertGeneralCriteria();
  }

  @Test
  void partitionedDataPlaneFollowsStorage() {
    confProxy.mode(FaultProxy.Mode.REFUSE);
    Instant cut = Instant.now();
    Duration seen = scenario.sampler().await("CP down", cut, DETECTION_WAIT, DISCONNECTED);
    figure("partition", "CP unreachable seen in " + seconds(seen));

    String path = scenario.putNewRoute(cp);
    cp.awaitExported();
    Instant pointerMoved = Instant.now();
    Duration served = scenario.awaitServed(dp, path, Duration.ofSeconds(30));
    figure(
        "partition",
        "new snapshot from storage served "
            + seconds(served)
            + " after its pointer moved (2P = "
            + seconds(FaultScenario.P.multipliedBy(2))
            + ")");
    assertThat(Duration.between(pointerMoved, Instant.now()))
        .as("served after the pointer moved")
        .isLessThanOrEqualTo(FaultScenario.P.multipliedBy(2));
    assertThat(dp.node().status().at("/config/source").asString("")).isEqualTo("storage");

    confProxy.mode(FaultProxy.Mode.PASS);
    Instant healed = Instant.now();
    Duration back =
        scenario.sampler().await("CP followed again", healed, DETECTION_WAIT, CONNECTED);
    figure("partition", "CP followed again " + seconds(back) + " after the partition healed");

    scenario.assertGeneralCriteria();
  }

  @Test
  void controlPlaneStalledBehindItsOpenSocketIsDetectedWithinThreeHeartbeats() {
    long pid = dp.node().pid();
    long filesBefore = FaultScenario.openFiles(pid);
    long threadsBefore = FaultScenario.threads(pid);
    for (int round = 1; round <= 3; round++) {
      confProxy.stall();
      Instant stalled = Instant.now();
      Duration seen = scenario.sampler().await("stalled CP", stalled, DETECTION_WAIT, DISCONNECTED);
      figure(
          "cp hang (stalled proxy)",
          "round "
              + round
              + ": detected in "
              + seconds(seen)
              + " (3H = "
              + seconds(H.multipliedBy(3))
              + ")");
      assertThat(seen).as("stalled CP detected").isLessThanOrEqualTo(H.multipliedBy(3));

      String path = scenario.putNewRoute(cp);
      cp.awaitExported();
      scenario.awaitServed(dp, path, Duration.ofSeconds(10));

      confProxy.mode(FaultProxy.Mode.PASS);
      Instant answered = Instant.now();
      Duration back =
          scenario.sampler().await("CP followed again", answered, DETECTION_WAIT, CONNECTED);
      figure(
          "cp hang (stalled proxy)", "round " + round + ": CP followed again in " + seconds(back));
    }
    long filesAfter = FaultScenario.openFiles(pid);
    long threadsAfter = FaultScenario.threads(pid);
    figure(
        "cp hang (stalled proxy)",
        "DP open files "
            + filesBefore
            + " -> "
            + filesAfter
            + ", threads "
            + threadsBefore
            + " -> "
            + threadsAfter
            + " over 3 stalls");
    assertThat(filesAfter).as("DP open files after 3 stalls").isLessThanOrEqualTo(filesBefore + 10);
    assertThat(threadsAfter).as("DP threads after 3 stalls").isLessThanOrEqualTo(threadsBefore + 5);

    scenario.assertGeneralCriteria();
  }

  @Test
  void suspendedControlPlaneIsDetectedWithinThreeHeartbeatsAndFollowedWhenItRuns() {
    cp.node().suspend();
    Instant suspended = Instant.now();
    try {
      Duration seen =
          scenario.sampler().await("suspended CP", suspended, DETECTION_WAIT, DISCONNECTED);
      figure("cp hang (kill -STOP)", "detected in " + seconds(seen));
      assertThat(seen).as("suspended CP detected").isLessThanOrEqualTo(H.multipliedBy(3));
    } finally {
      cp.node().resume();
    }
    Instant resumed = Instant.now();
    Duration back =
        scenario.sampler().await("CP followed again", resumed, DETECTION_WAIT, CONNECTED);
    figure("cp hang (kill -STOP)", "CP followed again " + seconds(back) + " after kill -CONT");
    String path = scenario.putNewRoute(cp);
    scenario.awaitServed(dp, path, ClusterFixture.WAIT_TIMEOUT);

    scenario.assertGeneralCriteria();
  }

  @Test
  void slowControlPlaneNeverGetsAPartialSnapshotApplied() {
    confProxy.slow(Duration.ofSeconds(5), 10_000);
    String last = null;
    for (int i = 0; i < 3; i++) {
      last = scenario.putNewRoute(cp);
    }
    cp.awaitExported();
    int routes = FaultScenario.EXISTING_ROUTES + 3;

    DataPlane cold = scenario.cluster.dataPlane("dp-cold", confProxy);
    cold.node().start();
    Instant started = Instant.now();
    JsonNode readyStatus =
        Await.until(
            "the cold data plane to turn ready",
            Duration.ofSeconds(90),
            ClusterFixture.POLL,
            () ->
                Http.get(cold.node().statusUrl() + "/ready").status() == 200
                    ? Optional.of(cold.node().status())
                    : Optional.empty(),
            () -> cold.node().describeLog(40));
    assertThat(readyStatus.at("/config/counts/routes").asInt())
        .as("routes served as soon as ready: %s", readyStatus)
        .isEqualTo(routes);
    figure(
        "cp slow",
        "cold DP ready on a complete snapshot after "
            + seconds(Duration.between(started, Instant.now()))
            + " (CP +5 s, 10 KB/s; storage reachable)");
    scenario.awaitServed(dp, last, Duration.ofSeconds(60));
    for (BallastNode node : new BallastNode[] {dp.node(), cold.node()}) {
      assertThat(node.status().path("last_rejection").isMissingNode())
          .as("%s refused nothing: %s", node.name(), node.status())
          .isTrue();
    }

    scenario.assertGeneralCriteria();
  }
}
