package io.ballast.chaos;

import static io.ballast.chaos.FaultScenario.figure;
import static io.ballast.chaos.FaultScenario.seconds;
import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.chaos.ClusterFixture.ControlPlane;
import io.ballast.chaos.ClusterFixture.DataPlane;
import io.ballast.testkit.FaultProxy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The fault matrix's rows about what a control plane pushes: older versions (a second CP with a
 * shorter history behind the same address), a push that removes most or all routes (held at export
 * by the CP, and at apply by the DP when the CP's guard is off), an operator-confirmed removal, and
 * a CP restarted with an empty store.
 */
class ConfigPushFaultsTest {

  private static final Duration REASON_WAIT = Duration.ofSeconds(20);
  private static final int RANDOM_PUSHES = 100;

  @TempDir Path tmp;

  private FaultScenario scenario;

  @AfterEach
  void stopCluster() {
    if (scenario != null) {
      scenario.close();
    }
  }

  @Test
  void olderVersionsFromAnotherControlPlaneAreNeverServed() {
    scenario = new FaultScenario(new ClusterFixture(tmp));
    ControlPlane newer = scenario.cluster.controlPlane("cp-newer");
    newer.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.createExistingRoutes(newer);
    for (int i = 0; i < 10; i++) {
      scenario.putNewRoute(newer);
    }
    newer.awaitExported();
    FilesystemStorage otherStorage = FilesystemStorage.create(tmp.resolve("older-storage"));
    ControlPlane older = scenario.cluster.controlPlane("cp-older", otherStorage);
    older.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.createExistingRoutes(older);
    assertThat(older.storeRevision()).isLessThan(newer.storeRevision());

    FaultProxy conf = scenario.cluster.confServerProxy(newer);
    DataPlane dp = scenario.cluster.dataPlane("dp", conf);
    dp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    dp.awaitStatus("/control_plane/state", "connected", ClusterFixture.WAIT_TIMEOUT);
    scenario.startWatching(dp);
    long served = dp.node().status().at("/config/version").asLong();

    Random random = new Random(12);
    Instant start = Instant.now();
    for (int push = 0; push < RANDOM_PUSHES; push++) {
      conf.target(random.nextBoolean() ? older.confPort() : newer.confPort());
      Await.sleep(Duration.ofMillis(100));
    }
    conf.target(older.confPort());
    Duration seen = scenario.sampler().awaitReason("cp_behind", start, REASON_WAIT);
    figure(
        "older version",
        RANDOM_PUSHES
            + " random switches between a CP at "
            + newer.storeRevision()
            + " and one at "
            + older.storeRevision()
            + ": versions served "
            + scenario.sampler().versionsServed()
            + ", cp_behind on status");
    assertThat(scenario.sampler().versionsServed()).as("versions served").containsOnly(served);

    conf.target(newer.confPort());
    String path = scenario.putNewRoute(newer);
    scenario.awaitServed(dp, path, ClusterFixture.WAIT_TIMEOUT);
    scenario.assertGeneralCriteria();
  }

  @Test
  void shrinkIsHeldAtExportUntilAnOperatorConfirmsIt() {
    scenario = new FaultScenario(new ClusterFixture(tmp));
    ControlPlane cp = scenario.cluster.controlPlane("cp");
    // The CP guards at 5 %: each DELETE is a revision of its own and is judged against the last
    // export out, so at 50 % the first few would go out one by one (1 of 5 is 20 %); at 5 % the
    // first is held, and so is every one after it, up to the empty export.
    cp.node()
        .reconfigure(
            config ->
                config.replace(
                    "  cron_spec: '@every 1s'",
                    "  max_route_shrink: 5%\n  cron_spec: '@every 1s'"));
    cp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.createExistingRoutes(cp);
    DataPlane dp = scenario.cluster.dataPlane("dp", cp);
    dp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.startWatching(dp);
    long before = dp.node().status().at("/config/version").asLong();

    // Every route goes: an empty push.
    for (int i = 0; i < FaultScenario.EXISTING_ROUTES; i++) {
      deleteRoute(cp, "r" + i, false);
    }
    Instant deleted = Instant.now();
    JsonNode held =
        Await.until(
            "the CP to hold the empty export",
            REASON_WAIT,
            ClusterFixture.POLL,
            () -> {
              JsonNode status = cp.node().status();
              return status.at("/exports/held").isObject()
                  ? java.util.Optional.of(status.at("/exports"))
                  : java.util.Optional.empty();
            },
            () -> cp.node().describeLog(40));
    figure(
        "empty push",
        "held at export "
            + seconds(Duration.between(deleted, Instant.now()))
            + " after the last DELETE: "
            + held);
    Await.sleep(Duration.ofSeconds(3));
    assertThat(dp.node().status().at("/config/version").asLong())
        .as("the DP still serves what it had")
        .isEqualTo(before);
    scenario.assertGeneralCriteria();

    Http.Response confirmed =
        Http.send(
            "POST",
            "http://127.0.0.1:" + cp.admin().port() + "/apisix/admin/ballast/confirm_shrink",
            cp.admin().key(),
            null);
    assertThat(confirmed.isSuccess()).as("confirm_shrink: %s", confirmed).isTrue();
    Instant confirmedAt = Instant.now();
    Await.until(
        "the confirmed removal to reach the DP",
        REASON_WAIT,
        ClusterFixture.POLL,
        () ->
            Http.get(dp.url("/r0")).status() == 404
                ? java.util.Optional.of(true)
                : java.util.Optional.empty(),
        () -> dp.node().describeLog(40));
    figure(
        "empty push",
        "operator-confirmed removal served "
            + seconds(Duration.between(confirmedAt, Instant.now()))
            + " after the confirmation");
  }

  @Test
  void shrinkIsHeldAtApplyWhenTheControlPlaneLetsItOut() {
    scenario = new FaultScenario(new ClusterFixture(tmp));
    ControlPlane cp = scenario.cluster.controlPlane("cp");
    cp.node()
        .reconfigure(
            config ->
                config.replace(
                    "  cron_spec: '@every 1s'",
                    "  max_route_shrink: 100%\n  cron_spec: '@every 1s'"));
    cp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.createExistingRoutes(cp);
    for (int i = 0; i < 5; i++) {
      scenario.putNewRoute(cp);
    }
    DataPlane dp = scenario.cluster.dataPlane("dp", cp);
    // The DP guards at 5 %: each DELETE is a revision of its own, and a DP that syncs between
    // them would judge each one alone (1 of 10 routes is 10 %), so even the first is held and the
    // test does not depend on how the DELETEs fall between syncs.
    dp.node()
        .reconfigure(
            config ->
                config.replaceFirst(
                    "( *)poll_interval: 1s", "$1max_route_shrink: 5%\n$1poll_interval: 1s"));
    dp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.startWatching(dp);
    long before = dp.node().status().at("/config/version").asLong();

    // 6 of 10 routes go, r4 among them, which the load uses: nothing goes.
    for (int i = 100; i < 105; i++) {
      deleteRoute(cp, "r" + i, false);
    }
    deleteRoute(cp, "r4", false);
    Instant pushed = Instant.now();
    Duration seen = scenario.sampler().awaitReason("shrink", pushed, REASON_WAIT);
    figure(
        "shrunk push",
        "held at apply by the DP; reason shrink " + seconds(seen) + " after the last DELETE");
    assertThat(dp.node().status().at("/config/version").asLong()).isEqualTo(before);
    assertThat(seen).as("reason shrink within one sync").isLessThanOrEqualTo(Duration.ofSeconds(3));
    // Load long enough around the fault for its rate to mean something.
    Await.sleep(Duration.ofSeconds(3));
    assertThat(dp.node().status().at("/config/version").asLong()).isEqualTo(before);
    scenario.assertGeneralCriteria();
  }

  @Test
  void controlPlaneRestartedWithAnEmptyStoreContinuesAboveStorage() throws IOException {
    scenario = new FaultScenario(new ClusterFixture(tmp));
    ControlPlane cp = scenario.cluster.controlPlane("cp");
    cp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.createExistingRoutes(cp);
    for (int i = 0; i < 5; i++) {
      scenario.putNewRoute(cp);
    }
    long exported = cp.awaitExported();
    DataPlane dp = scenario.cluster.dataPlane("dp", cp);
    dp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.startWatching(dp);

    cp.node().kill();
    deleteTree(cp.node().dir().resolve("data").resolve("store"));
    cp.node().restart().awaitReady(ClusterFixture.START_TIMEOUT);
    assertThat(cp.storeRevision())
        .as("the restarted CP's store revision")
        .isGreaterThanOrEqualTo(exported);
    assertThat(cp.node().logTail(Integer.MAX_VALUE))
        .as("a WARN says the CP imported storage's export")
        .anyMatch(line -> line.contains("WARN") && line.toLowerCase().contains("import"));
    Instant restarted = Instant.now();
    String path = scenario.putNewRoute(cp);
    Duration served = scenario.awaitServed(dp, path, REASON_WAIT);
    figure(
        "CP restarted with an empty store",
        "imported export "
            + exported
            + "; a write after the restart served by the DP "
            + seconds(Duration.between(restarted, Instant.now()))
            + " later ("
            + seconds(served)
            + " after its 2xx)");
    scenario.assertGeneralCriteria();
  }

  private static void deleteRoute(ControlPlane cp, String id, boolean confirm) {
    Http.Response response =
        Http.send(
            "DELETE",
            cp.admin().routeUrl(id) + (confirm ? "?confirm_shrink=true" : ""),
            cp.admin().key(),
            null);
    assertThat(response.isSuccess()).as("DELETE route %s: %s", id, response).isTrue();
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      List<Path> all = paths.sorted(Comparator.reverseOrder()).toList();
      for (Path path : all) {
        Files.delete(path);
      }
    }
  }
}
