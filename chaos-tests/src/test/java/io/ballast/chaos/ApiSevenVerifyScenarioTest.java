package io.ballast.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.chaos.ClusterFixture.ControlPlane;
import io.ballast.chaos.ClusterFixture.DataPlane;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.JsonNode;

/**
 * The "Verify" section of API7's data-plane resilience guide, played against real processes: a data
 * plane keeps serving when its control plane is killed, a new data plane starts from the storage
 * snapshot while the control plane is down, and everything follows the control plane again once it
 * is back.
 */
class ApiSevenVerifyScenarioTest {

  private static final Duration PROPAGATION_POLL = Duration.ofMillis(5);
  private static final Duration COLD_START_POLL = Duration.ofMillis(10);

  @TempDir Path tmp;

  private ClusterFixture cluster;

  @AfterEach
  void killNodes() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @ParameterizedTest(name = "on {0}")
  @EnumSource(ClusterStorage.Kind.class)
  void dataPlaneSurvivesControlPlaneLossAndStartsFromStorage(ClusterStorage.Kind storage)
      throws IOException {
    step("0. start the storage: " + storage);
    cluster = new ClusterFixture(tmp, storage.start(tmp.resolve("storage")));

    step("a. start the upstream, the control plane and a data plane following it");
    UpstreamServer upstream = cluster.upstream();
    ControlPlane cp = cluster.controlPlane("cp");
    cp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    DataPlane dp = cluster.dataPlane("dp", cp);
    dp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    dp.awaitStatus("/control_plane/state", "connected", ClusterFixture.WAIT_TIMEOUT);
    dp.awaitStatus("/config/source", "control_plane", ClusterFixture.WAIT_TIMEOUT);

    step("b. create route ip and measure control plane -> data plane propagation");
    Http.Response created = cp.admin().putRoute("ip", "/ip", upstream.hostPort());
    long createdAt = System.nanoTime();
    assertThat(created.isSuccess()).as("PUT route ip: %s", created).isTrue();
    Http.Response proxied =
        Await.until(
            "the data plane to serve /ip",
            ClusterFixture.WAIT_TIMEOUT,
            PROPAGATION_POLL,
            () -> {
              Http.Response response = Http.get(dp.url("/ip"));
              return response.status() == 200 ? Optional.of(response) : Optional.empty();
            },
            cluster::describeNodes);
    long propagationMs = Duration.ofNanos(System.nanoTime() - createdAt).toMillis();
    assertThat(proxied.body()).contains("\"origin\"");
    step("   propagation " + propagationMs + " ms");

    step("c. wait until the control plane has exported its revision to storage");
    long exportedVersion = cp.awaitExported();
    long revisionBeforeKill = cp.storeRevision();
    step("   exported version " + exportedVersion + ", store revision " + revisionBeforeKill);
    String body = exportedBody(exportedVersion);
    assertThat(body).as("the exported body, gunzipped").contains("\"uri\":\"/ip\"");

    step("d. steady traffic through the data plane while the control plane is killed (kill -9)");
    try (TrafficLoop traffic =
        TrafficLoop.start(dp.url("/ip"), Duration.ofMillis(10), Duration.ofSeconds(60))) {
      Await.sleep(Duration.ofSeconds(1));
      cp.node().kill();
      step("   control plane killed");
      Await.sleep(Duration.ofSeconds(3));
      dp.awaitStatus("/control_plane/state", "disconnected", ClusterFixture.WAIT_TIMEOUT);
      traffic.stop();
      step("   " + traffic);
      assertThat(traffic.failures()).as("failed requests: %s", traffic).isZero();
      assertThat(traffic.successes()).as("successful requests: %s", traffic).isGreaterThan(100);
    }

    step("e. with the control plane down, cold-start a standalone data plane from storage");
    DataPlane standalone = cluster.standaloneDataPlane("dp-standalone");
    standalone.node().start();
    Instant processStart = standalone.node().startedAt();
    Await.until(
        "the standalone data plane to serve /ip",
        ClusterFixture.START_TIMEOUT,
        COLD_START_POLL,
        () -> {
          if (!standalone.node().isAlive()) {
            throw new IllegalStateException("the standalone data plane exited");
          }
          return Http.get(standalone.url("/ip")).status() == 200
              ? Optional.of(true)
              : Optional.empty();
        },
        () -> standalone.node().describeLog(40));
    long coldStartMs = Duration.between(processStart, Instant.now()).toMillis();
    JsonNode standaloneStatus = standalone.node().status();
    assertThat(standaloneStatus.at("/config/source").asString(""))
        .as("standalone status %s", standaloneStatus)
        .isEqualTo("storage");
    assertThat(standaloneStatus.at("/config/version").asLong(-1))
        .as("standalone status %s", standaloneStatus)
        .isEqualTo(exportedVersion);
    step("   cold start " + coldStartMs + " ms");

    step("f. restart the control plane; the data plane follows it again without a restart");
    cp.node().restart().awaitReady(ClusterFixture.START_TIMEOUT);
    assertThat(cp.storeRevision()).isGreaterThanOrEqualTo(revisionBeforeKill);
    Http.Response route = cp.admin().getRoute("ip");
    assertThat(route.status()).as("GET route ip after kill -9: %s", route).isEqualTo(200);
    assertThat(route.json().at("/value/uri").asString("")).isEqualTo("/ip");
    Http.Response created2 = cp.admin().putRoute("ip2", "/ip2", upstream.hostPort());
    assertThat(created2.isSuccess()).as("PUT route ip2: %s", created2).isTrue();
    Await.until(
        "the first data plane to serve /ip2",
        ClusterFixture.WAIT_TIMEOUT,
        ClusterFixture.POLL,
        () -> Http.get(dp.url("/ip2")).status() == 200 ? Optional.of(true) : Optional.empty(),
        cluster::describeNodes);
    // The storage poll could also have brought ip2; the status says which source serves now.
    dp.awaitStatus("/control_plane/state", "connected", ClusterFixture.WAIT_TIMEOUT);
    dp.awaitStatus("/config/source", "control_plane", ClusterFixture.WAIT_TIMEOUT);

    cluster.assertNoSecretInLogs();

    step("g. measurements");
    String measurements =
        "MEASURE storage=%s propagation_ms=%d\nMEASURE storage=%s cold_start_ms=%d\n"
            .formatted(storage, propagationMs, storage, coldStartMs);
    System.out.print(measurements);
    Path target = Path.of(System.getProperty("basedir", "."), "target");
    Files.createDirectories(target);
    Files.writeString(
        target.resolve("chaos-measurements.txt"),
        measurements,
        StandardCharsets.UTF_8,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  /**
   * The resources body of {@code version}, fetched with the storage's own client (not Ballast's
   * backend) and gunzipped: what a control plane stores is readable by any tool.
   */
  private String exportedBody(long version) throws IOException {
    JsonNode pointer =
        Http.parse(
            new String(
                cluster.storage().read(Configs.RESOURCE_BUCKET, "default/latest.json"),
                StandardCharsets.UTF_8));
    assertThat(pointer.path("version").asLong()).as("the pointer's version").isEqualTo(version);
    byte[] gzipped =
        cluster
            .storage()
            .read(Configs.RESOURCE_BUCKET, pointer.at("/parts/resources/body_key").asString());
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzipped))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static void step(String message) {
    System.out.println("[api7-verify] " + Instant.now() + " " + message);
  }
}
