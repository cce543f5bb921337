package io.ballast.chaos;

import static io.ballast.chaos.FaultScenario.P;
import static io.ballast.chaos.FaultScenario.figure;
import static io.ballast.chaos.FaultScenario.seconds;
import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.chaos.ClusterFixture.ControlPlane;
import io.ballast.chaos.ClusterFixture.DataPlane;
import io.ballast.snapshot.SnapshotEntry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The fault matrix's rows about what storage holds: a body with one bit flipped, a truncated body,
 * a pointer naming a body that is not there, a pointer rolled back to an older export. The control
 * plane exports to its own folder; the test copies exports from there into the storage the
 * storage-only data plane reads ({@link StorageReplica}), tampering on the way.
 */
class SnapshotTamperingTest {

  /** Two polls with their ±20 % jitter, plus one status sample. */
  static final Duration TWO_POLLS = P.multipliedBy(24).dividedBy(10).plusMillis(200);

  private static final Duration REASON_WAIT = Duration.ofSeconds(20);

  @TempDir Path tmp;

  private FaultScenario scenario;
  private FilesystemStorage exported;
  private FilesystemStorage readByDataPlanes;
  private StorageReplica replica;
  private ControlPlane cp;
  private DataPlane dp;

  @BeforeEach
  void startCluster() {
    readByDataPlanes = FilesystemStorage.create(tmp.resolve("storage"));
    exported = FilesystemStorage.create(tmp.resolve("cp-storage"));
    replica = new StorageReplica(exported, readByDataPlanes);
    scenario = new FaultScenario(new ClusterFixture(tmp, readByDataPlanes));
    cp = scenario.cluster.controlPlane("cp", exported);
    cp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.createExistingRoutes(cp);
    cp.awaitExported();
    replica.copyAll();
    dp = scenario.cluster.standaloneDataPlane("dp");
    dp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.startWatching(dp);
  }

  @AfterEach
  void stopCluster() {
    if (scenario != null) {
      scenario.close();
    }
  }

  @Test
  void corruptedAndTruncatedBodiesAreNeverAppliedAndTheNextGoodOneIs() {
    for (String damage : new String[] {"corrupted (one bit)", "truncated"}) {
      String path = scenario.putNewRoute(cp);
      long version = cp.awaitExported();
      long served = servedVersion();
      if (damage.startsWith("corrupted")) {
        replica.putCorrupted(version);
      } else {
        replica.putTruncated(version);
      }
      replica.copyAll();
      Instant moved = Instant.now();
      Duration seen = scenario.sampler().awaitReason("checksum", moved, REASON_WAIT);
      JsonNode status = dp.node().status();
      assertThat(status.at("/config/version").asLong())
          .as("the damaged export %d is not served: %s", version, status)
          .isEqualTo(served);
      String rejection = status.path("last_rejection").toString().toLowerCase(Locale.ROOT);
      assertThat(rejection)
          .as("last_rejection names the checksum")
          .containsAnyOf("sha-256", "sha256", "size");
      figure(
          "body " + damage,
          "refused, reason checksum in " + seconds(seen) + ": " + status.path("last_rejection"));

      replica.putGood(version);
      Instant repaired = Instant.now();
      Duration good = scenario.awaitServed(dp, path, REASON_WAIT);
      figure(
          "body " + damage, "good body served " + seconds(good) + " after it appeared (2P = 2 s)");
      assertThat(good).as("next good snapshot").isLessThanOrEqualTo(TWO_POLLS);
      scenario.sampler().awaitCleared("checksum", repaired, REASON_WAIT);
    }

    scenario.assertGeneralCriteria();
  }

  @Test
  void pointerNamingAMissingBodyKeepsTheCurrentAndRecoversWhenTheBodyAppears() {
    String path = scenario.putNewRoute(cp);
    cp.awaitExported();
    long served = servedVersion();
    long version = replica.copyPointerWithoutItsBody();
    Instant moved = Instant.now();
    Duration seen = scenario.sampler().awaitReason("body_missing", moved, REASON_WAIT);
    figure("body missing", "reason body_missing in " + seconds(seen));
    assertThat(servedVersion()).as("served while the body is missing").isEqualTo(served);

    replica.putGood(version);
    Duration good = scenario.awaitServed(dp, path, REASON_WAIT);
    figure("body missing", "recovered " + seconds(good) + " after the body appeared");
    assertThat(good).as("recovered once the body is there").isLessThanOrEqualTo(TWO_POLLS);
    scenario.sampler().awaitCleared("body_missing", Instant.now(), REASON_WAIT);

    scenario.assertGeneralCriteria();
  }

  @Test
  void pointerRolledBackToAnOlderExportIsRefusedAndReported() {
    byte[] older = replica.pointerFile();
    long olderVersion = replica.pointer().path("version").asLong();
    String path = scenario.putNewRoute(cp);
    long newer = cp.awaitExported();
    replica.copyAll();
    scenario.awaitServed(dp, path, REASON_WAIT);

    replica.restorePointer(older);
    Instant rolledBack = Instant.now();
    Duration seen = scenario.sampler().awaitReason("rollback_refused", rolledBack, REASON_WAIT);
    Await.sleep(P.multipliedBy(3));
    figure(
        "pointer rolled back",
        "from " + newer + " to " + olderVersion + ": rollback_refused in " + seconds(seen));
    assertThat(servedVersion()).as("served after the rollback").isEqualTo(newer);
    assertThat(
            scenario
                .sampler()
                .first(rolledBack, status -> status.at("/config/version").asLong() != newer))
        .as("a sample after the rollback serving another version than %d", newer)
        .isEmpty();

    scenario.assertGeneralCriteria();
  }

  @Test
  void invalidConfigurationSignedByTheControlPlaneIsRefusedWhole() {
    JsonNode pointer = replica.pointer();
    long served = servedVersion();
    long forged = pointer.path("version").asLong() + 1;
    String upstream = scenario.cluster.upstream().hostPort();
    List<SnapshotEntry> routes = new ArrayList<>();
    for (int i = 0; i < FaultScenario.EXISTING_ROUTES; i++) {
      routes.add(route("r" + i, upstream));
    }
    routes.add(route("r7", upstream));
    // One field no CP would accept: a port out of range.
    routes.add(route("r8", "127.0.0.1:70000"));
    ForgedExport.publish(
        readByDataPlanes,
        cp.node().dir().resolve("data/signing"),
        pointer.path("lineage").asString(),
        forged,
        routes,
        tmp.resolve("forged"));
    Instant pushed = Instant.now();
    JsonNode rejection =
        Await.until(
            "the DP to refuse export " + forged,
            REASON_WAIT,
            ClusterFixture.POLL,
            () -> {
              JsonNode last = dp.node().status().path("last_rejection");
              return last.path("version").asLong(-1) == forged
                  ? java.util.Optional.of(last)
                  : java.util.Optional.empty();
            },
            () -> dp.node().describeLog(40));
    Await.sleep(P.multipliedBy(3));
    figure(
        "invalid configuration",
        "refused whole in "
            + seconds(Duration.between(pushed, Instant.now()).minus(P.multipliedBy(3)))
            + ": "
            + rejection.path("reason").asString(""));
    assertThat(rejection.path("reason").asString(""))
        .as("the error names the resource and the field")
        .contains("r8")
        .contains("port");
    assertThat(servedVersion()).as("served version").isEqualTo(served);
    assertThat(Http.get(dp.url("/r7")).status())
        .as("the valid route r7 of the refused export")
        .isEqualTo(404);
    assertThat(scenario.sampler().versionsServed()).doesNotContain(forged);

    scenario.assertGeneralCriteria();
  }

  private static SnapshotEntry route(String id, String upstream) {
    return new SnapshotEntry(
        "routes",
        id,
        Http.parse(
            """
            {"id":"%s","uri":"/%s","upstream":{"type":"roundrobin","nodes":{"%s":1}}}"""
                .formatted(id, id, upstream)));
  }

  private long servedVersion() {
    return dp.node().status().at("/config/version").asLong();
  }
}
