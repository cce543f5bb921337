package io.ballast.dataplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ballast.dataplane.SnapshotApplier.Source;
import io.ballast.snapshot.ExportFetcher;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.storage.ETag;
import java.net.ConnectException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;

/**
 * The reason codes of {@code data_plane.health}, in process: the sources are fakes that start and
 * do nothing, the test reports for them, the clock moves by hand.
 */
class DataPlaneHealthTest {

  private static final URI CP = URI.create("http://cp:9280");
  private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
  private static final Deployment WITH_FALLBACK =
      new Deployment.ControlPlane(
          List.of(CP),
          Snapshots.GROUP,
          Optional.of(new Deployment.Storage(List.of(), Duration.ofSeconds(10))));

  /** Sources that start nothing: the test speaks for them. */
  private static final class SilentSources implements Sources {
    @Override
    public Follower controlPlane(List<URI> hosts, String gatewayGroup, DataPlane dataPlane) {
      return () -> {};
    }

    @Override
    public Follower storage(
        ExportFetcher fetcher,
        Duration interval,
        Optional<ETag> cachedPointer,
        DataPlane dataPlane) {
      return () -> {};
    }

    @Override
    public Follower standaloneFile(Deployment.File file, DataPlane dataPlane) {
      return () -> {};
    }

    @Override
    public Follower localControlPlane(Flux<VerifiedExport> exports, DataPlane dataPlane) {
      return () -> {};
    }
  }

  @TempDir Path dir;
  private final ManualClock clock = new ManualClock(START);
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private DataPlane dataPlane;

  @BeforeEach
  void create() {
    LocalCache cache = new LocalCache(dir.resolve("cache"));
    dataPlane =
        new DataPlane(
            WITH_FALLBACK, new SnapshotApplier(cache, clock), cache, new SilentSources(), clock);
    dataPlane.start();
    logged.start();
    logger().addAppender(logged);
  }

  @AfterEach
  void stop() {
    logger().detachAppender(logged);
    dataPlane.close();
  }

  private static ch.qos.logback.classic.Logger logger() {
    return (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(DataPlane.class);
  }

  private boolean offer(long version, Source source) {
    return dataPlane.offer(
        Snapshots.resources(dir, version, Snapshots.routeTo("/v" + version)),
        source,
        Optional.empty());
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> health() {
    Map<String, Object> section = (Map<String, Object>) dataPlane.status().get("data_plane");
    return (Map<String, Object>) section.get("health");
  }

  @SuppressWarnings("unchecked")
  private List<Map<String, Object>> reasons() {
    return (List<Map<String, Object>>) health().get("reasons");
  }

  @SuppressWarnings("unchecked")
  private long raised(ReasonCode code) {
    return (Long) ((Map<String, Object>) health().get("reasons_total")).get(code.id());
  }

  private List<String> codes() {
    return reasons().stream().map(r -> (String) r.get("code")).toList();
  }

  @Test
  void aNewCodeIsLoggedOnceAtWarnCountedAndShownUntilItsClearingAtInfo() {
    offer(3, Source.CONTROL_PLANE);
    assertThat(health()).containsEntry("state", "ok");
    logged.list.clear();

    clock.advance(Duration.ofSeconds(5));
    dataPlane.report(ReasonCode.SHRINK, "export 4 removes 9 of 10 routes; held");
    clock.advance(Duration.ofSeconds(5));
    dataPlane.report(ReasonCode.SHRINK, "export 5 removes 10 of 10 routes; held");

    assertThat(health()).containsEntry("state", "degraded");
    assertThat(reasons())
        .containsExactly(
            Map.of(
                "code",
                "shrink",
                "detail",
                "export 5 removes 10 of 10 routes; held",
                "since",
                "2026-01-01T00:00:05Z"));
    assertThat(raised(ReasonCode.SHRINK)).isEqualTo(1);
    assertThat(dataPlane.prometheus())
        .contains("ballast_data_plane_reasons_total{code=\"shrink\"} 1")
        .contains("ballast_data_plane_reason{code=\"shrink\"} 1")
        .contains("ballast_data_plane_reason{code=\"stale\"} 0");

    dataPlane.clear(ReasonCode.SHRINK);
    dataPlane.clear(ReasonCode.SHRINK);
    dataPlane.report(ReasonCode.SHRINK, "export 6 removes 10 of 10 routes; held");

    assertThat(raised(ReasonCode.SHRINK)).isEqualTo(2);
    assertThat(logged.list)
        .extracting(ILoggingEvent::getLevel, ILoggingEvent::getFormattedMessage)
        .containsExactly(
            tuple(Level.WARN, "data plane health: shrink: export 4 removes 9 of 10 routes; held"),
            tuple(
                Level.INFO,
                "data plane health: shrink cleared (was: export 5 removes 10 of 10 routes; held)"),
            tuple(Level.WARN, "data plane health: shrink: export 6 removes 10 of 10 routes; held"));
  }

  @Test
  void aStorageCodeStaysWhileAnyBackendReportsItAndNamesEachOne() {
    dataPlane.storageProblem("s3", ReasonCode.STORAGE_UNREACHABLE, "connection refused");
    dataPlane.storageProblem("azure", ReasonCode.STORAGE_UNREACHABLE, "no answer");
    dataPlane.storageProblem("folder", ReasonCode.ACCESS_DENIED, "403");

    assertThat(codes()).containsExactlyInAnyOrder("storage_unreachable", "access_denied");
    assertThat(detailOf("storage_unreachable"))
        .isEqualTo("s3: connection refused; azure: no answer");

    // One backend answering again never clears what another still reports.
    dataPlane.storageRecovered("s3");
    assertThat(detailOf("storage_unreachable")).isEqualTo("azure: no answer");
    dataPlane.storageRecovered("azure");
    dataPlane.storageRecovered("folder");
    assertThat(codes()).isEmpty();
  }

  private String detailOf(String code) {
    return reasons().stream()
        .filter(reason -> code.equals(reason.get("code")))
        .map(reason -> (String) reason.get("detail"))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void nothingServedAndNoSourceAnsweringIsNotReadyWithNoSourceUntilASnapshotArrives() {
    assertThat(health()).containsEntry("state", "not_ready");
    assertThat(codes()).isEmpty();

    dataPlane.controlPlaneUnreachable(CP, new ConnectException("Connection refused"));
    dataPlane.storageFailed("s3", "storage did not answer within 30000 ms");

    assertThat(health()).containsEntry("state", "not_ready");
    assertThat(codes()).containsExactly("no_source");
    assertThat(reasons().get(0).get("detail"))
        .isEqualTo(
            "nothing is served and no source answers; last: storage: storage did not answer"
                + " within 30000 ms");

    offer(7, Source.STORAGE);

    assertThat(codes()).isEmpty();
    assertThat(health()).containsEntry("state", "ok");
  }

  @Test
  void aControlPlaneBehindTheServedVersionIsReportedAndTheNewerKept() {
    offer(10, Source.STORAGE);

    dataPlane.controlPlaneAnswered(CP);
    dataPlane.controlPlaneAt(CP, 2, Optional.empty());

    assertThat(codes()).containsExactly("cp_behind");
    assertThat(reasons().get(0).get("detail"))
        .isEqualTo(
            "control plane http://cp:9280 is at version 2, behind the served 10; serving 10");
    assertThat(dataPlane.version()).isEqualTo(10);
    assertThat(offer(3, Source.CONTROL_PLANE)).isFalse();
    assertThat(dataPlane.version()).isEqualTo(10);

    dataPlane.controlPlaneAt(CP, 10, Optional.empty());

    assertThat(codes()).isEmpty();
  }

  @Test
  void aClockTenMinutesOffRaisesNothingAndTwoHoursOffIsClockSkewWhileServingGoesOn() {
    offer(1, Source.CONTROL_PLANE);

    dataPlane.controlPlaneClock(CP, START.plus(Duration.ofMinutes(10)));
    dataPlane.controlPlaneClock(CP, START.minus(Duration.ofMinutes(10)));
    assertThat(codes()).isEmpty();

    dataPlane.controlPlaneClock(CP, START.minus(Duration.ofHours(2)));

    assertThat(codes()).containsExactly("clock_skew");
    assertThat(reasons().get(0).get("detail"))
        .isEqualTo(
            "this node's clock is 7200 s ahead of control plane http://cp:9280 (tolerance 15"
                + " min)");
    assertThat(dataPlane.serving()).isTrue();
    assertThat(offer(2, Source.CONTROL_PLANE)).isTrue();

    dataPlane.controlPlaneClock(CP, START.plus(Duration.ofMinutes(1)));

    assertThat(codes()).isEmpty();
  }

  @Test
  void storageFindingsEndWhenTheControlPlaneAnswersAndStoragePollingStops() {
    offer(4, Source.CONTROL_PLANE);
    dataPlane.controlPlaneUnreachable(CP, new ConnectException("Connection refused"));
    for (ReasonCode code :
        List.of(
            ReasonCode.STORAGE_UNREACHABLE,
            ReasonCode.ACCESS_DENIED,
            ReasonCode.STORAGE_MISSING_BUCKET,
            ReasonCode.BODY_MISSING,
            ReasonCode.ROLLBACK_REFUSED)) {
      dataPlane.report(code, "storage says " + code.id());
    }
    dataPlane.report(ReasonCode.SHRINK, "export 5 held");

    dataPlane.controlPlaneAnswered(CP);

    assertThat(codes()).containsExactly("shrink");
  }

  @Test
  void aRefusedChecksumOrSignatureIsReportedUntilANewerSnapshotIsServed() {
    offer(4, Source.CONTROL_PLANE);

    dataPlane.reject(5, Source.STORAGE, ReasonCode.CHECKSUM, "body SHA-256 does not match");
    dataPlane.reject(5, Source.STORAGE, ReasonCode.SIGNATURE, "key abc is not trusted");

    assertThat(codes()).containsExactly("signature", "checksum");
    assertThat(reasons().get(1).get("detail")).isEqualTo("storage: body SHA-256 does not match");
    assertThat(dataPlane.lastRejection().orElseThrow().reason())
        .isEqualTo("key abc is not trusted");

    offer(4, Source.CONTROL_PLANE);
    assertThat(codes()).containsExactly("signature", "checksum");

    offer(6, Source.CONTROL_PLANE);

    assertThat(codes()).isEmpty();
  }

  @Test
  void aCacheWriteOnAFullDiskIsCountedOnStatusAndInTheMetricsAndServingGoesOn()
      throws java.io.IOException {
    offer(3, Source.CONTROL_PLANE);
    FullDisk.at(dir.resolve("cache").resolve("export").resolve("resources-4.ndjson.gz"));

    assertThat(offer(4, Source.CONTROL_PLANE)).as("applied despite the cache").isTrue();

    assertThat(dataPlane.status().get("config")).asString().contains("version=4,");
    assertThat(cacheSection()).containsEntry("write_failures", 1L);
    assertThat(cacheSection().get("write_error")).asString().contains("No space left on device");
    assertThat(dataPlane.prometheus())
        .contains("# TYPE ballast_data_plane_cache_write_failures_total counter")
        .contains("\nballast_data_plane_cache_write_failures_total 1\n");

    offer(5, Source.CONTROL_PLANE);

    assertThat(cacheSection()).containsEntry("write_failures", 1L).doesNotContainKey("write_error");
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> cacheSection() {
    Map<String, Object> section = (Map<String, Object>) dataPlane.status().get("data_plane");
    return (Map<String, Object>) section.get("cache");
  }
}
