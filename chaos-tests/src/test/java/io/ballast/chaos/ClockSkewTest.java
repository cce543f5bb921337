package io.ballast.chaos;

import static io.ballast.chaos.FaultScenario.figure;
import static io.ballast.chaos.FaultScenario.seconds;
import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.chaos.ClusterFixture.ControlPlane;
import io.ballast.chaos.ClusterFixture.DataPlane;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fault matrix's clock-skew row: data planes whose clocks run 10 minutes ahead, 10 minutes
 * behind and 2 hours ahead of their control plane's (the {@code ballast.clock_offset} test aid),
 * following the CP and, for one, following storage only. Versions order snapshots, so every DP
 * serves every change; only the 2-hour one reports {@code clock_skew}, and it serves on.
 */
class ClockSkewTest {

  @TempDir Path tmp;

  private FaultScenario scenario;

  @AfterEach
  void stopCluster() {
    if (scenario != null) {
      scenario.close();
    }
  }

  @Test
  void tenMinutesRaiseNoAlarmAndTwoHoursAreReportedWhileServingGoesOn() {
    scenario = new FaultScenario(new ClusterFixture(tmp));
    ControlPlane cp = scenario.cluster.controlPlane("cp");
    cp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.createExistingRoutes(cp);
    cp.awaitExported();

    Map<String, DataPlane> tolerated = new LinkedHashMap<>();
    tolerated.put(
        "+10 min, following the CP",
        start(scenario.cluster.dataPlane("dp-ahead", cp), Duration.ofMinutes(10)));
    tolerated.put(
        "-10 min, following the CP",
        start(scenario.cluster.dataPlane("dp-behind", cp), Duration.ofMinutes(-10)));
    tolerated.put(
        "+10 min, storage only",
        start(scenario.cluster.standaloneDataPlane("dp-storage-ahead"), Duration.ofMinutes(10)));
    tolerated.put(
        "-10 min, storage only",
        start(scenario.cluster.standaloneDataPlane("dp-storage-behind"), Duration.ofMinutes(-10)));
    DataPlane skewed = start(scenario.cluster.dataPlane("dp-2h", cp), Duration.ofHours(2));
    Instant started = Instant.now();
    scenario.startWatching(skewed);

    Duration seen = scenario.sampler().awaitReason("clock_skew", started, Duration.ofSeconds(20));
    figure("clock skew", "+2 h: clock_skew on status " + seconds(seen) + " after the DP was ready");

    String path = scenario.putNewRoute(cp);
    scenario.awaitServed(skewed, path, ClusterFixture.WAIT_TIMEOUT);
    for (Map.Entry<String, DataPlane> entry : tolerated.entrySet()) {
      DataPlane dp = entry.getValue();
      scenario.awaitServed(dp, path, ClusterFixture.WAIT_TIMEOUT);
      Set<String> reasons = StatusSampler.reasonCodes(dp.node().status());
      figure("clock skew", entry.getKey() + ": serves every change, reasons " + reasons);
      assertThat(reasons)
          .as("%s: reasons on status", entry.getKey())
          .doesNotContain("clock_skew", "stale", "rollback_refused", "signature");
    }
    // The rate is judged over the loop's whole life: give it a steady stretch after five starts.
    Await.sleep(Duration.ofSeconds(5));
    scenario.assertGeneralCriteria();
  }

  private static DataPlane start(DataPlane dp, Duration offset) {
    dp.node().withClockOffset(offset).start().awaitReady(ClusterFixture.START_TIMEOUT);
    return dp;
  }
}
