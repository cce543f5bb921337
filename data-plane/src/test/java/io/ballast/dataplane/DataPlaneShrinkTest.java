package io.ballast.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.dataplane.SnapshotApplier.Source;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import io.ballast.snapshot.ExportFetcher;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.ShrinkGuard;
import io.ballast.snapshot.SignedExport;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.storage.ETag;
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
import reactor.core.publisher.Flux;

/** The shrink guard at apply: an export that removes too many served routes is held. */
class DataPlaneShrinkTest {

  private static final URI CP = URI.create("http://cp:9280");
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
  private final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
  private SnapshotApplier applier;
  private DataPlane dataPlane;

  @BeforeEach
  void create() {
    LocalCache cache = new LocalCache(dir.resolve("cache"));
    applier = new SnapshotApplier(cache, clock);
    dataPlane = new DataPlane(WITH_FALLBACK, applier, cache, new SilentSources(), clock);
    dataPlane.start();
  }

  @AfterEach
  void stop() {
    dataPlane.close();
  }

  /** {@code count} routes, r1 … rN, each to the one upstream. */
  private static ResourceSet routes(int count) {
    ResourceSet.Builder set =
        ResourceSet.builder()
            .add(Snapshots.resource(ResourceType.UPSTREAMS, "u1", Snapshots.UPSTREAM));
    for (int i = 1; i <= count; i++) {
      set.add(
          Snapshots.resource(
              ResourceType.ROUTES, "r" + i, "{\"uri\":\"/r" + i + "\",\"upstream_id\":\"u1\"}"));
    }
    return set.build();
  }

  private boolean offer(long version, int routes, Source source) {
    return dataPlane.offer(
        Snapshots.resources(dir, version, routes(routes)), source, Optional.empty());
  }

  @SuppressWarnings("unchecked")
  private List<Map<String, Object>> reasons() {
    Map<String, Object> section = (Map<String, Object>) dataPlane.status().get("data_plane");
    return (List<Map<String, Object>>) ((Map<String, Object>) section.get("health")).get("reasons");
  }

  @Test
  void anExportRemovingTooManyRoutesIsHeldAndReportedWhileTheServedOneStays() {
    assertThat(offer(10, 10, Source.CONTROL_PLANE)).isTrue();

    assertThat(offer(11, 4, Source.CONTROL_PLANE)).as("6 of 10 removed").isFalse();

    assertThat(dataPlane.version()).isEqualTo(10);
    assertThat(applier.serving().orElseThrow().manifest().routes()).isEqualTo(10);
    assertThat(dataPlane.reports(ReasonCode.SHRINK)).isTrue();
    assertThat(reasons())
        .singleElement()
        .satisfies(
            reason -> {
              assertThat(reason.get("code")).isEqualTo("shrink");
              assertThat((String) reason.get("detail"))
                  .startsWith(
                      "export 11 from control_plane removes 6 of 10 routes (4 left), more than"
                          + " fallback_cp.max_route_shrink 50% allows; serving version 10");
            });

    assertThat(offer(12, 0, Source.STORAGE)).as("every route removed, from storage").isFalse();
    assertThat(dataPlane.version()).isEqualTo(10);

    assertThat(offer(13, 5, Source.CONTROL_PLANE)).as("exactly half removed").isTrue();
    assertThat(dataPlane.reports(ReasonCode.SHRINK)).isFalse();
    assertThat(applier.shrinkHeld()).isEmpty();
  }

  @Test
  void nothingServedYetOrAGuardTurnedOffHoldsNothing() {
    assertThat(offer(3, 0, Source.CONTROL_PLANE)).isTrue();
    assertThat(offer(4, 0, Source.CONTROL_PLANE)).isTrue();
    assertThat(offer(5, 8, Source.CONTROL_PLANE)).isTrue();

    applier.guardShrinks(ShrinkGuard.OFF);
    assertThat(offer(6, 0, Source.STORAGE)).isTrue();
    assertThat(dataPlane.reports(ReasonCode.SHRINK)).isFalse();
  }

  @Test
  void anExportAnOperatorConfirmedIsAppliedWhateverItRemoves() {
    assertThat(offer(10, 10, Source.CONTROL_PLANE)).isTrue();
    assertThat(offer(11, 0, Source.CONTROL_PLANE)).isFalse();
    assertThat(dataPlane.reports(ReasonCode.SHRINK)).isTrue();

    VerifiedExport built = Snapshots.resources(dir, 12, routes(0));
    ExportManifest m = built.manifest();
    ExportManifest confirmed =
        new ExportManifest(
            m.gatewayGroup(),
            m.lineage(),
            m.version(),
            10,
            true,
            m.createdAt(),
            m.producer(),
            m.parts(),
            m.signedAt(),
            m.expiresAt());
    VerifiedExport export = new VerifiedExport(SignedExport.unsigned(confirmed), built.parts());

    assertThat(dataPlane.offer(export, Source.STORAGE, Optional.empty())).isTrue();
    assertThat(dataPlane.version()).isEqualTo(12);
    assertThat(dataPlane.reports(ReasonCode.SHRINK)).isFalse();
  }
}
