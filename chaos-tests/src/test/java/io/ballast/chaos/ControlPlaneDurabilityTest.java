package io.ballast.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.chaos.ClusterFixture.ControlPlane;
import io.ballast.testkit.FreePorts;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** A 2xx from the Admin API is durable: it survives a kill -9 right after it. */
class ControlPlaneDurabilityTest {

  private static final int ROUTES = 20;

  @TempDir Path tmp;

  private ClusterFixture cluster;

  @AfterEach
  void killNodes() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void acknowledgedWritesSurviveKillMinusNine() {
    cluster = new ClusterFixture(tmp);
    String upstream = "127.0.0.1:" + FreePorts.next();
    ControlPlane cp = cluster.controlPlane("cp");
    cp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);

    List<String> ids = new ArrayList<>();
    long highestRevision = 0;
    for (int i = 1; i <= ROUTES; i++) {
      String id = "r" + i;
      Http.Response response = cp.admin().putRoute(id, "/r" + i, upstream);
      assertThat(response.isSuccess()).as("PUT route %s: %s", id, response).isTrue();
      highestRevision = Math.max(highestRevision, modifiedIndex(response));
      ids.add(id);
    }
    cp.node().kill();

    cp.node().restart().awaitReady(ClusterFixture.START_TIMEOUT);

    Http.Response listed = cp.admin().listRoutes();
    assertThat(listed.status()).as("GET routes: %s", listed).isEqualTo(200);
    JsonNode list = listed.json();
    assertThat(list.path("total").asInt(-1)).as("routes after restart: %s", list).isEqualTo(ROUTES);
    List<String> listedIds = new ArrayList<>();
    for (JsonNode item : list.path("list")) {
      String key = item.path("key").asString("");
      listedIds.add(key.substring(key.lastIndexOf('/') + 1));
    }
    assertThat(listedIds).containsExactlyInAnyOrderElementsOf(ids);

    Http.Response next = cp.admin().putRoute("after-restart", "/after", upstream);
    assertThat(next.isSuccess()).as("PUT after restart: %s", next).isTrue();
    assertThat(modifiedIndex(next)).isGreaterThan(highestRevision);
  }

  /** The revision an Admin API write answers with: {@code modifiedIndex}, as etcd-backed APISIX. */
  private static long modifiedIndex(Http.Response response) {
    JsonNode body = response.json();
    JsonNode index = body.path("modifiedIndex");
    if (!index.isNumber()) {
      index = body.path("value").path("modifiedIndex");
    }
    assertThat(index.isNumber()).as("modifiedIndex in %s", body).isTrue();
    return index.asLong();
  }
}
