package io.ballast.chaos;

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
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The fault matrix's "disk full on the cache folder" row: a data plane under load whose cache
 * folder cannot take the next exports keeps serving each new one, counts the failed writes on
 * {@code /status}, and keeps the previous cache whole: restarted with the CP and storage (S3Proxy)
 * down, it serves the old version from it.
 *
 * <p>How the disk is full: before the CP publishes, the temp file the cache writes first for each
 * coming version ({@code resources-<version>.ndjson.gz.tmp}) is made a link to {@code /dev/full},
 * where every write fails with ENOSPC from the kernel; the node's real write path meets it. Not
 * {@code ulimit -f}: it limits every file of the process, and the DP downloads each body to a file
 * the size of the one it caches, so the download would fail with the cache. Not a small tmpfs:
 * mounting one needs root, which CI may not have. {@code /dev/full} needs neither.
 */
class DiskFullTest {

  /** New routes in the export the cache cannot take, one store revision each. */
  private static final int NEW_ROUTES = 20;

  /** Versions after the cached one whose cache writes fail: every revision the test makes. */
  private static final int FULL_VERSIONS = NEW_ROUTES + 30;

  @TempDir Path tmp;

  private S3ProxyStorage storage;
  private FaultScenario scenario;

  @AfterEach
  void stopCluster() {
    if (scenario != null) {
      scenario.close();
    }
  }

  @Test
  void aFullCacheFolderIsCountedTheNewVersionServedAndTheOldCacheStillServesARestart()
      throws IOException {
    storage = S3ProxyStorage.start(tmp.resolve("storage"));
    scenario = new FaultScenario(new ClusterFixture(tmp, storage));
    ControlPlane cp = scenario.cluster.controlPlane("cp");
    cp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    scenario.createExistingRoutes(cp);
    long cached = cp.awaitExported();
    DataPlane dp = scenario.cluster.dataPlane("dp", cp);
    dp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    dp.awaitStatus("/config/version", Long.toString(cached), ClusterFixture.WAIT_TIMEOUT);
    Path cacheFolder = dp.node().dir().resolve("data").resolve("dp-cache").resolve("export");
    Await.until(
        "the DP's cache of version " + cached,
        ClusterFixture.WAIT_TIMEOUT,
        ClusterFixture.POLL,
        () ->
            Files.exists(cacheFolder.resolve("manifest.json"))
                    && Files.exists(cacheFolder.resolve("instance-" + cached + ".ndjson.gz"))
                ? Optional.of(true)
                : Optional.empty(),
        () -> dp.node().describeLog(40));
    List<String> oldCache = names(cacheFolder);
    scenario.startWatching(dp);
    // The rate is judged over the loop's whole life: let it settle before the fault.
    Await.sleep(Duration.ofSeconds(3));

    for (long version = cached + 1; version <= cached + FULL_VERSIONS; version++) {
      Files.createSymbolicLink(
          cacheFolder.resolve("resources-" + version + ".ndjson.gz.tmp"), Path.of("/dev/full"));
    }
    Instant published = Instant.now();
    String lastRoute = null;
    for (int i = 0; i < NEW_ROUTES; i++) {
      lastRoute = scenario.putNewRoute(cp);
    }
    long newest = cp.storeRevision();
    assertThat(newest).as("revisions made").isLessThanOrEqualTo(cached + FULL_VERSIONS);
    scenario.awaitServed(dp, lastRoute, ClusterFixture.WAIT_TIMEOUT);
    JsonNode status =
        dp.awaitStatus("/config/version", Long.toString(newest), ClusterFixture.WAIT_TIMEOUT);
    Duration served = Duration.between(published, Instant.now());
    long failures = status.at("/data_plane/cache/write_failures").asLong();
    String error = status.at("/data_plane/cache/write_error").asString("");
    List<String> warnings =
        dp.node().logTail(Integer.MAX_VALUE).stream()
            .filter(line -> line.contains("cannot write to the local cache"))
            .toList();
    figure(
        "disk full on the cache folder",
        "version "
            + newest
            + " ("
            + NEW_ROUTES
            + " new routes) served "
            + seconds(served)
            + " after the first PUT; "
            + failures
            + " failed cache writes on /status ("
            + error
            + "), "
            + warnings.size()
            + " WARN line");
    assertThat(failures).as("write_failures in %s", status).isPositive();
    assertThat(error).as("write_error").contains("No space left on device");
    assertThat(warnings).as("one WARN for the run of failures").hasSize(1);
    assertThat(warnings.get(0)).contains(cacheFolder.toString());
    assertThat(names(cacheFolder)).as("the cache folder holds the old entry").isEqualTo(oldCache);
    // Serving goes on after the failed writes: the load keeps running on the new version.
    Await.sleep(Duration.ofSeconds(5));
    scenario.assertGeneralCriteria();

    cp.node().kill();
    storage.server().kill();
    dp.node().kill();
    dp.node().restart();
    Instant restarted = dp.node().startedAt();
    dp.node().awaitReady(ClusterFixture.START_TIMEOUT);
    JsonNode after = dp.node().status();
    figure(
        "disk full on the cache folder",
        "restarted with CP and storage down: source "
            + after.at("/config/source").asString("")
            + ", version "
            + after.at("/config/version").asLong()
            + " (the cached "
            + cached
            + "), ready "
            + seconds(Duration.between(restarted, Instant.now()))
            + " after the start");
    assertThat(after.at("/config/source").asString("")).as("source: %s", after).isEqualTo("cache");
    assertThat(after.at("/config/version").asLong()).as("version").isEqualTo(cached);
    assertThat(after.at("/data_plane/cache/set_aside").isMissingNode())
        .as("the old cache verified: nothing set aside in %s", after)
        .isTrue();
    assertThat(Http.get(dp.url("/r0")).status()).as("an old route").isEqualTo(200);
    assertThat(Http.get(dp.url(lastRoute)).status())
        .as("a route of the newer export")
        .isEqualTo(404);
  }

  /** The cache folder's files, the links to /dev/full not yet written through left out. */
  private static List<String> names(Path folder) throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      return files
          .filter(file -> !Files.isSymbolicLink(file))
          .map(file -> file.getFileName().toString())
          .sorted()
          .toList();
    }
  }
}
