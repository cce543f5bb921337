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
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The fault matrix's redundant-storage row: {@code fallback_cp.backends} lists S3 (S3Proxy, reached
 * through a fault proxy by the data planes) and a folder. With S3 refusing connections, updates and
 * a cold start go on from the folder, and status shows S3's state.
 */
class RedundantStorageTest {

  @TempDir Path tmp;

  private FaultScenario scenario;

  @AfterEach
  void stopCluster() {
    if (scenario != null) {
      scenario.close();
    }
  }

  @Test
  void withS3DownUpdatesAndColdStartsGoOnFromTheOtherBackend() {
    S3ProxyStorage s3 = S3ProxyStorage.startBehindFaultProxyForDataPlanes(tmp.resolve("s3"));
    FilesystemStorage folder = FilesystemStorage.create(tmp.resolve("folder"));
    scenario = new FaultScenario(new ClusterFixture(tmp, new RedundantStorage(s3, folder)));
    ControlPlane cp = scenario.cluster.controlPlane("cp");
    cp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.createExistingRoutes(cp);
    cp.awaitExported();
    DataPlane dp = scenario.cluster.standaloneDataPlane("dp");
    dp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.startWatching(dp);

    s3.faults().mode(FaultProxy.Mode.REFUSE);
    Instant down = Instant.now();
    JsonNode s3State =
        Await.until(
            "the DP's status to show S3 down",
            Duration.ofSeconds(20),
            ClusterFixture.POLL,
            () -> backendStatus(dp.node().status(), "aws_s3").filter(RedundantStorageTest::failing),
            () -> "storage status " + dp.node().status().path("storage"));
    figure(
        "redundant storage",
        "S3 down shown on status in "
            + seconds(Duration.between(down, Instant.now()))
            + ": "
            + s3State);

    String path = scenario.putNewRoute(cp);
    cp.awaitExported();
    Duration served = scenario.awaitServed(dp, path, Duration.ofSeconds(10));
    figure(
        "redundant storage",
        "update served from the folder " + seconds(served) + " after the export, S3 down");

    DataPlane cold = scenario.cluster.standaloneDataPlane("dp-cold");
    cold.node().start();
    Instant started = cold.node().startedAt();
    cold.node().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.awaitServed(cold, path, Duration.ofSeconds(10));
    figure(
        "redundant storage",
        "cold start with S3 down serving "
            + seconds(Duration.between(started, Instant.now()))
            + " after the process started");
    assertThat(cold.node().status().at("/config/version").asLong())
        .isEqualTo(dp.node().status().at("/config/version").asLong());

    s3.faults().mode(FaultProxy.Mode.PASS);
    scenario.assertGeneralCriteria();
  }

  /** The entry of {@code /storage/backends} (one per backend followed) whose name starts so. */
  static Optional<JsonNode> backendStatus(JsonNode status, String name) {
    for (JsonNode entry : status.path("storage").path("backends")) {
      if (entry.path("name").asString("").startsWith(name)) {
        return Optional.of(entry);
      }
    }
    return Optional.empty();
  }

  private static boolean failing(JsonNode backend) {
    String state = backend.path("state").asString("");
    return (!state.isEmpty() && !state.equals("ok")) || backend.path("last_error").isString();
  }

  /** Ballast's {@code backends} list: S3 first, then the folder. */
  private record RedundantStorage(S3ProxyStorage s3, FilesystemStorage folder)
      implements ClusterStorage {

    @Override
    public String block() {
      return "backends:\n" + entry(s3.block()) + entry(folder.block());
    }

    @Override
    public String controlPlaneBlock() {
      return "backends:\n" + entry(s3.controlPlaneBlock()) + entry(folder.block());
    }

    /** A storage block as one list entry: {@code - name:} then its keys. */
    private static String entry(String block) {
      String indented = block.strip().indent(4);
      return "  - " + indented.substring(4);
    }

    @Override
    public List<String> secrets() {
      return s3.secrets();
    }

    @Override
    public byte[] read(String bucket, String key) {
      return folder.read(bucket, key);
    }

    @Override
    public String describe() {
      return s3.describe() + "\n" + folder.describe();
    }

    @Override
    public void close() {
      s3.close();
    }
  }
}
