package io.ballast.gateway.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.gateway.health.HealthCheckers.Target;
import io.ballast.resource.Fields;
import io.ballast.resource.HealthCheckConfig;
import io.ballast.resource.UpstreamNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** Active and passive checks against real servers, with short intervals and polled outcomes. */
class HealthCheckerTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Duration DEADLINE = Duration.ofSeconds(10);

  private final HealthCheckers checkers = new HealthCheckers();
  private final List<ProbedServer> servers = new ArrayList<>();

  @AfterEach
  void tearDown() {
    checkers.close();
    servers.forEach(ProbedServer::close);
  }

  private ProbedServer server() {
    return track(new ProbedServer());
  }

  private ProbedServer track(ProbedServer server) {
    servers.add(server);
    return server;
  }

  private static HealthCheckConfig config(String json) {
    return HealthCheckConfig.parse(JSON.readTree(json), new Fields("upstream 'u1'"), "checks.");
  }

  private HealthChecker check(String key, HealthCheckConfig config, UpstreamNode... nodes) {
    checkers.reconcile(Map.of(key, new Target(config, List.of(nodes))));
    return checkers.checker(key).orElseThrow();
  }

  /** Polls until {@code condition} holds; fails after a generous deadline. */
  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting until " + what, e);
      }
    }
  }

  @Test
  void httpProbesMarkANodeUnhealthyAfterFailuresAndHealthyAfterSuccesses() {
    ProbedServer server = server();
    UpstreamNode node = server.node();
    HealthChecker checker =
        check(
            "upstream 'u1'",
            config(
                """
                {"active": {"http_path": "/status?deep=1", "host": "api.test",
                            "req_headers": ["X-Probe: ballast"],
                            "healthy": {"interval": 0.1, "successes": 2},
                            "unhealthy": {"interval": 0.1, "http_failures": 3}}}
                """),
            node);

    await("two probes answered 200", () -> server.requests.get() >= 2);
    assertThat(checker.isHealthy(node)).isTrue();
    assertThat(server.lastUri.get()).isEqualTo("/status?deep=1");
    assertThat(server.lastHeaders.get().get("Host")).isEqualTo("api.test");
    assertThat(server.lastHeaders.get().get("X-Probe")).isEqualTo("ballast");

    int before = server.requests.get();
    server.status.set(500);
    await("the node is unhealthy", () -> !checker.isHealthy(node));
    assertThat(server.requests.get() - before).as("failing probes seen").isGreaterThanOrEqualTo(3);

    before = server.requests.get();
    server.status.set(200);
    await("the node is healthy again", () -> checker.isHealthy(node));
    assertThat(server.requests.get() - before).as("good probes seen").isGreaterThanOrEqualTo(2);
  }

  @Test
  void aStatusInNeitherListChangesNothing() {
    ProbedServer server = server();
    server.status.set(418);
    UpstreamNode node = server.node();
    HealthChecker checker =
        check(
            "upstream 'u1'",
            config(
                "{\"active\": {\"unhealthy\": {\"interval\": 0.1, \"http_failures\": 1},"
                    + " \"healthy\": {\"interval\": 0.1}}}"),
            node);

    await("five probes answered 418", () -> server.requests.get() >= 5);

    assertThat(checker.isHealthy(node)).isTrue();
  }

  @Test
  void aStoppedServerCountsAsTcpFailuresAndItsRestartBringsTheNodeBack() {
    ProbedServer server = server();
    UpstreamNode node = server.node();
    HealthChecker checker =
        check(
            "upstream 'u1'",
            config(
                """
                {"active": {"healthy": {"interval": 0.1, "successes": 1},
                            "unhealthy": {"interval": 0.1, "tcp_failures": 2}}}
                """),
            node);
    await("a probe answered", () -> server.requests.get() >= 1);

    server.stop();
    await("the node is unhealthy", () -> !checker.isHealthy(node));

    server.start();
    await("the node is healthy again", () -> checker.isHealthy(node));
  }

  @Test
  void hangingProbesCountAsTimeouts() {
    ProbedServer server = server();
    server.hang.set(true);
    UpstreamNode node = server.node();
    HealthChecker checker =
        check(
            "upstream 'u1'",
            config(
                """
                {"active": {"timeout": 0.1, "healthy": {"interval": 0.1},
                            "unhealthy": {"interval": 0.1, "timeouts": 2,
                                          "tcp_failures": 254, "http_failures": 254}}}
                """),
            node);

    await("the node is unhealthy", () -> !checker.isHealthy(node));

    assertThat(server.requests.get()).as("probes that hung").isGreaterThanOrEqualTo(2);
  }

  @Test
  void tcpProbesConnectOnlyAndFailOnAClosedPort() throws IOException {
    ProbedServer open = server();
    UpstreamNode closed = new UpstreamNode("127.0.0.1", freePort(), 1);
    HealthChecker checker =
        check(
            "upstream 'u1'",
            config(
                """
                {"active": {"type": "tcp", "healthy": {"interval": 0.1},
                            "unhealthy": {"interval": 0.1, "tcp_failures": 2}}}
                """),
            open.node(),
            closed);

    await("the closed port's node is unhealthy", () -> !checker.isHealthy(closed));
    await("two connections to the open node", () -> open.connections.get() >= 2);

    assertThat(checker.isHealthy(open.node())).isTrue();
    assertThat(open.requests.get()).as("HTTP requests from a tcp probe").isZero();
  }

  @Test
  void httpsProbesTrustAnUnverifiedCertificateOnlyWhenTold() {
    ProbedServer server = track(new ProbedServer(true));
    UpstreamNode node = server.node();
    String checks =
        """
        {"active": {"type": "https", "https_verify_certificate": %s,
                    "healthy": {"interval": 0.1}, "unhealthy": {"interval": 0.1, "tcp_failures": 2}}}
        """;
    checkers.reconcile(
        Map.of(
            "upstream 'strict'", new Target(config(checks.formatted("true")), List.of(node)),
            "upstream 'lenient'", new Target(config(checks.formatted("false")), List.of(node))));
    HealthChecker strict = checkers.checker("upstream 'strict'").orElseThrow();
    HealthChecker lenient = checkers.checker("upstream 'lenient'").orElseThrow();

    await("the strict checker failed the handshake", () -> !strict.isHealthy(node));
    await("lenient probes answered over TLS", () -> server.requests.get() >= 2);

    assertThat(lenient.isHealthy(node)).isTrue();
  }

  @Test
  void passiveReportsMarkANodeUnhealthyAndActiveProbesBringItBack() {
    ProbedServer server = server();
    UpstreamNode node = server.node();
    // A long healthy interval: no probe resets the counters between the reports.
    HealthChecker checker =
        check(
            "upstream 'u1'",
            config(
                """
                {"active": {"healthy": {"interval": 60, "successes": 2},
                            "unhealthy": {"interval": 0.1}},
                 "passive": {"unhealthy": {"http_failures": 3, "http_statuses": [502]}}}
                """),
            node);

    checker.reportHttpStatus(node, 502);
    checker.reportHttpStatus(node, 502);
    checker.reportHttpStatus(node, 404);
    assertThat(checker.isHealthy(node)).as("two failures and a status in neither list").isTrue();
    checker.reportHttpStatus(node, 502);
    assertThat(checker.isHealthy(node)).isFalse();

    await("the node is healthy again", () -> checker.isHealthy(node));
    assertThat(server.requests.get())
        .as("probes at the unhealthy interval")
        .isGreaterThanOrEqualTo(2);
  }

  @Test
  void passiveSuccessesClearFailuresAndTcpFailuresAndTimeoutsCount() {
    ProbedServer server = server();
    UpstreamNode node = server.node();
    UpstreamNode other = new UpstreamNode("127.0.0.1", 1, 1);
    HealthChecker checker =
        check(
            "upstream 'u1'",
            config(
                """
                {"active": {"healthy": {"interval": 60}, "unhealthy": {"interval": 60}},
                 "passive": {"unhealthy": {"tcp_failures": 2, "timeouts": 2}}}
                """),
            node,
            other);

    checker.reportTcpFailure(node);
    checker.reportHttpStatus(node, 200);
    checker.reportTcpFailure(node);
    assertThat(checker.isHealthy(node)).as("the 200 cleared the first tcp failure").isTrue();
    checker.reportTcpFailure(node);
    assertThat(checker.isHealthy(node)).isFalse();

    checker.reportTimeout(other);
    checker.reportTimeout(other);
    assertThat(checker.isHealthy(other)).isFalse();
  }

  @Test
  void aConfigurationSwapKeepsStateForUnchangedChecksAndStopsRemovedUpstreams() {
    ProbedServer kept = server();
    ProbedServer removed = server();
    kept.status.set(500);
    HealthCheckConfig fast =
        config(
            """
            {"active": {"healthy": {"interval": 0.1},
                        "unhealthy": {"interval": 0.1, "http_failures": 2}}}
            """);
    checkers.reconcile(
        Map.of(
            "upstream 'kept'", new Target(fast, List.of(kept.node())),
            "upstream 'removed'", new Target(fast, List.of(removed.node()))));
    HealthChecker checker = checkers.checker("upstream 'kept'").orElseThrow();
    await("the kept node is unhealthy", () -> !checker.isHealthy(kept.node()));
    await("the removed upstream was probed", () -> removed.requests.get() >= 1);

    // Same checks; the node's weight changes, which must not reset its health.
    UpstreamNode reweighted = new UpstreamNode("127.0.0.1", kept.node().port(), 5);
    checkers.reconcile(Map.of("upstream 'kept'", new Target(fast, List.of(reweighted))));

    assertThat(checkers.checker("upstream 'kept'")).containsSame(checker);
    assertThat(checker.isHealthy(reweighted)).isFalse();
    assertThat(checkers.checker("upstream 'removed'")).isEmpty();

    // A probe may have been in flight at the swap; after that none may come.
    int keptBefore = kept.requests.get();
    await("the kept upstream was probed twice more", () -> kept.requests.get() >= keptBefore + 2);
    int removedAfterSwap = removed.requests.get();
    await(
        "the kept upstream was probed five more times",
        () -> kept.requests.get() >= keptBefore + 7);
    assertThat(removed.requests.get())
        .as("probes of the removed upstream")
        .isEqualTo(removedAfterSwap);
  }

  @Test
  void changedChecksStartOverWithAHealthyNode() {
    ProbedServer server = server();
    server.status.set(500);
    UpstreamNode node = server.node();
    HealthChecker first =
        check(
            "upstream 'u1'",
            config(
                "{\"active\": {\"healthy\": {\"interval\": 0.1},"
                    + " \"unhealthy\": {\"interval\": 0.1, \"http_failures\": 1}}}"),
            node);
    await("the node is unhealthy", () -> !first.isHealthy(node));

    HealthChecker second =
        check(
            "upstream 'u1'",
            config(
                "{\"active\": {\"healthy\": {\"interval\": 60},"
                    + " \"unhealthy\": {\"interval\": 60, \"http_failures\": 1}}}"),
            node);

    assertThat(second).isNotSameAs(first);
    assertThat(second.isHealthy(node)).isTrue();
  }

  @Test
  void nodesTheCheckerDoesNotTrackAreHealthy() {
    ProbedServer server = server();
    HealthChecker checker =
        check(
            "upstream 'u1'",
            config("{\"active\": {\"healthy\": {\"interval\": 60}}}"),
            server.node());
    UpstreamNode unknown = new UpstreamNode("10.0.0.1", 80, 1);

    checker.reportTcpFailure(unknown);
    checker.reportTcpFailure(unknown);

    assertThat(checker.isHealthy(unknown)).isTrue();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
