package io.ballast.chaos;

import static io.ballast.chaos.FaultScenario.P;
import static io.ballast.chaos.FaultScenario.figure;
import static io.ballast.chaos.FaultScenario.seconds;
import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.chaos.ClusterFixture.ControlPlane;
import io.ballast.chaos.ClusterFixture.DataPlane;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The fault matrix's rows that signed, expiring pointers answer: a pointer frozen in storage (the
 * CP re-signs its own copy every second with {@code expire_after: 4s}, the DPs' copy stops moving)
 * and a bucket deleted and re-created by someone else holding an export signed by another key. The
 * storage-only data plane trusts only its CP's public key.
 */
class SignedExportFaultsTest {

  static final Duration EXPIRE_AFTER = Duration.ofSeconds(4);

  /** P with its jitter plus one status sample. */
  static final Duration ONE_POLL = P.multipliedBy(12).dividedBy(10).plusMillis(200);

  private static final Duration REASON_WAIT = Duration.ofSeconds(20);

  @TempDir Path tmp;

  private FaultScenario scenario;
  private FilesystemStorage readByDataPlanes;
  private StorageReplica replica;
  private ControlPlane cp;
  private DataPlane dp;

  @BeforeEach
  void startCluster() {
    readByDataPlanes = FilesystemStorage.create(tmp.resolve("storage"));
    FilesystemStorage exported = FilesystemStorage.create(tmp.resolve("cp-storage"));
    replica = new StorageReplica(exported, readByDataPlanes);
    scenario = new FaultScenario(new ClusterFixture(tmp, readByDataPlanes));
    cp = scenario.cluster.controlPlane("cp", exported);
    cp.node().reconfigure(config -> withExpireAfter(config, EXPIRE_AFTER));
    cp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.createExistingRoutes(cp);
    cp.awaitExported();
    replica.copyAll();
    dp = trustingDataPlane("dp");
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
  void frozenPointerIsReportedStaleWhileServingGoesOn() {
    JsonNode pointer = replica.pointer();
    Instant expires = Instant.parse(pointer.path("expires_at").asString());
    Duration seen =
        scenario
            .sampler()
            .await(
                "reason stale",
                expires,
                Duration.ofSeconds(30),
                status -> StatusSampler.reasonCodes(status).contains("stale"));
    JsonNode status = dp.node().status();
    long age = status.at("/config/age_seconds").asLong(-1);
    long expectedAge =
        Duration.between(Instant.parse(pointer.path("created_at").asString()), Instant.now())
            .toSeconds();
    figure(
        "pointer frozen",
        "stale "
            + seconds(seen)
            + " after the pointer expired (≤ P = 1 s); age gauge "
            + age
            + " s, expected "
            + expectedAge
            + " s");
    assertThat(seen).as("stale after expiry").isLessThanOrEqualTo(ONE_POLL);
    assertThat(Math.abs(age - expectedAge)).as("snapshot age gauge, s").isLessThanOrEqualTo(2);
    assertThat(status.at("/data_plane/health/state").asString("")).isEqualTo("degraded");

    // A cold start from the expired snapshot serves and says it is degraded.
    DataPlane cold = trustingDataPlane("dp-cold");
    cold.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.awaitServed(cold, "/r0", ClusterFixture.WAIT_TIMEOUT);
    JsonNode coldStatus =
        Await.until(
            "the cold DP to report stale",
            REASON_WAIT,
            ClusterFixture.POLL,
            () -> {
              JsonNode s = cold.node().status();
              return StatusSampler.reasonCodes(s).contains("stale")
                  ? java.util.Optional.of(s)
                  : java.util.Optional.empty();
            },
            () -> cold.node().describeLog(40));
    assertThat(coldStatus.at("/data_plane/health/state").asString("")).isEqualTo("degraded");

    replica.copyPointer();
    Instant refreshed = Instant.now();
    Duration cleared = scenario.sampler().awaitCleared("stale", refreshed, REASON_WAIT);
    figure(
        "pointer frozen",
        "stale cleared " + seconds(cleared) + " after a re-signed pointer appeared");

    scenario.assertGeneralCriteria();
  }

  @Test
  void bucketRecreatedWithAForeignExportIsNeverApplied() throws IOException {
    FilesystemStorage foreignStorage = FilesystemStorage.create(tmp.resolve("foreign-storage"));
    ControlPlane foreign = scenario.cluster.controlPlane("cp-foreign", foreignStorage);
    foreign.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.createExistingRoutes(foreign);
    for (int i = 0; i < 20; i++) {
      scenario.putNewRoute(foreign);
    }
    long foreignVersion = foreign.awaitExported();
    long served = dp.node().status().at("/config/version").asLong();
    assertThat(foreignVersion).as("the foreign export is newer").isGreaterThan(served);

    for (String bucket : new String[] {Configs.CONFIG_BUCKET, Configs.RESOURCE_BUCKET}) {
      deleteTree(readByDataPlanes.dir().resolve(bucket));
    }
    Instant deleted = Instant.now();
    Duration missing =
        scenario.sampler().awaitReason("storage_missing_bucket", deleted, REASON_WAIT);
    figure("bucket deleted", "storage_missing_bucket in " + seconds(missing));

    new StorageReplica(foreignStorage, readByDataPlanes).copyAll();
    Instant recreated = Instant.now();
    Duration refused = scenario.sampler().awaitReason("signature", recreated, REASON_WAIT);
    Await.sleep(P.multipliedBy(3));
    figure(
        "bucket re-created by someone else",
        "export "
            + foreignVersion
            + " signed by another key refused, reason signature in "
            + seconds(refused));
    assertThat(scenario.sampler().versionsServed())
        .as("versions served")
        .doesNotContain(foreignVersion);
    assertThat(dp.node().status().at("/config/version").asLong()).isEqualTo(served);
    assertThat(Files.exists(readByDataPlanes.dir().resolve(Configs.CONFIG_BUCKET)))
        .as("the bucket exists only because the test re-created it")
        .isTrue();

    scenario.assertGeneralCriteria();
  }

  /** A storage-only data plane trusting only the CP's generated public key. */
  private DataPlane trustingDataPlane(String name) {
    Path publicKey = cp.node().dir().resolve("data/signing/snapshot-signing.pub.pem");
    assertThat(publicKey).as("the CP's generated public key").isRegularFile();
    DataPlane node = scenario.cluster.standaloneDataPlane(name);
    node.node()
        .reconfigure(
            config ->
                config.replace(
                    "ballast:\n",
                    "ballast:\n  snapshot_signing:\n    trusted_keys: [" + publicKey + "]\n"));
    return node;
  }

  /** The CP's {@code fallback_cp} block with {@code expire_after}. */
  static String withExpireAfter(String config, Duration expireAfter) {
    return config.replace(
        "  cron_spec: '@every 1s'",
        "  expire_after: " + expireAfter.toSeconds() + "s\n  cron_spec: '@every 1s'");
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
