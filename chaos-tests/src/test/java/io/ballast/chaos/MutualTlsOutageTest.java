package io.ballast.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.chaos.ClusterFixture.ControlPlane;
import io.ballast.chaos.ClusterFixture.DataPlane;
import io.ballast.gateway.tls.GeneratedCertificates;
import io.ballast.gateway.tls.GeneratedCertificates.Ca;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control plane outage of {@link ApiSevenVerifyScenarioTest} with the channel on mutual TLS:
 * certificates made here, the conf server asking for a client certificate, the data plane verifying
 * the server's. The DP keeps serving through a {@code kill -9} of the CP and follows it again over
 * mutual TLS once it is back; the conf server answers nothing to plain HTTP.
 */
class MutualTlsOutageTest {

  @TempDir Path tmp;

  private ClusterFixture cluster;

  @AfterEach
  void killNodes() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void dataPlaneKeepsServingThroughAnOutageAndFollowsAgainOverMutualTls() {
    step("0. make a CA, the conf server's certificate and the data plane's (CN=default)");
    Path certs = tmp.resolve("certs");
    Ca ca = GeneratedCertificates.ca("chaos-channel-ca");
    Configs.MutualTls tls =
        new Configs.MutualTls(
            ca.writeCertificate(certs, "ca"),
            ca.server("control-plane", "127.0.0.1", "localhost").write(certs, "cp"),
            certs.resolve("cp.key"),
            ca.client("default").write(certs, "dp"),
            certs.resolve("dp.key"));
    cluster = new ClusterFixture(tmp).withMutualTls(tls);

    step("a. start the upstream, the control plane and a data plane following it over mTLS");
    UpstreamServer upstream = cluster.upstream();
    ControlPlane cp = cluster.controlPlane("cp");
    cp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    DataPlane dp = cluster.dataPlane("dp", cp);
    dp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    dp.awaitStatus("/control_plane/state", "connected", ClusterFixture.WAIT_TIMEOUT);
    dp.awaitStatus("/config/source", "control_plane", ClusterFixture.WAIT_TIMEOUT);
    assertThat(Http.get("http://127.0.0.1:" + cp.confPort() + "/ballast/v2/export"))
        .as("plain HTTP to the conf server")
        .matches(response -> response.status() != 200, "no snapshot");

    step("b. create route ip; the data plane serves it");
    Http.Response created = cp.admin().putRoute("ip", "/ip", upstream.hostPort());
    assertThat(created.isSuccess()).as("PUT route ip: %s", created).isTrue();
    awaitServed(dp, "/ip");

    step("c. steady traffic through the data plane while the control plane is killed (kill -9)");
    try (TrafficLoop traffic =
        TrafficLoop.start(dp.url("/ip"), Duration.ofMillis(10), Duration.ofSeconds(60))) {
      Await.sleep(Duration.ofSeconds(1));
      cp.node().kill();
      step("   control plane killed");
      dp.awaitStatus("/control_plane/state", "disconnected", ClusterFixture.WAIT_TIMEOUT);
      Await.sleep(Duration.ofSeconds(2));
      traffic.stop();
      step("   " + traffic);
      assertThat(traffic.failures()).as("failed requests: %s", traffic).isZero();
      assertThat(traffic.successes()).as("successful requests: %s", traffic).isGreaterThan(100);
    }

    step("d. restart the control plane; the data plane follows it again over mTLS");
    cp.node().restart().awaitReady(ClusterFixture.START_TIMEOUT);
    Http.Response created2 = cp.admin().putRoute("ip2", "/ip2", upstream.hostPort());
    assertThat(created2.isSuccess()).as("PUT route ip2: %s", created2).isTrue();
    awaitServed(dp, "/ip2");
    dp.awaitStatus("/control_plane/state", "connected", ClusterFixture.WAIT_TIMEOUT);
    dp.awaitStatus("/config/source", "control_plane", ClusterFixture.WAIT_TIMEOUT);

    cluster.assertNoSecretInLogs();
    for (BallastNode node : new BallastNode[] {cp.node(), dp.node()}) {
      assertThat(node.logTail(Integer.MAX_VALUE))
          .as("%s's log", node.name())
          .noneMatch(line -> line.contains("PRIVATE KEY"));
    }
  }

  private void awaitServed(DataPlane dp, String path) {
    Await.until(
        "the data plane to serve " + path,
        ClusterFixture.WAIT_TIMEOUT,
        ClusterFixture.POLL,
        () -> Http.get(dp.url(path)).status() == 200 ? Optional.of(true) : Optional.empty(),
        cluster::describeNodes);
  }

  private static void step(String message) {
    System.out.println("[mtls-outage] " + Instant.now() + " " + message);
  }
}
