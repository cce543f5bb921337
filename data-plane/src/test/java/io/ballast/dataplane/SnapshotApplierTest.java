package io.ballast.dataplane;

import static io.ballast.dataplane.Snapshots.entry;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ballast.dataplane.SnapshotApplier.Source;
import io.ballast.snapshot.SnapshotContent;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.storage.ETag;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class SnapshotApplierTest {

  @TempDir Path dir;
  private LocalCache cache;
  private SnapshotApplier applier;

  @BeforeEach
  void create() {
    cache = new LocalCache(dir.resolve("cache"));
    applier = new SnapshotApplier(cache, Clock.systemUTC());
  }

  private VerifiedExport routeTo(long version, String uri) {
    return Snapshots.resources(dir, version, Snapshots.routeTo(uri));
  }

  private boolean routes(String uri) {
    return applier.table().match("GET", "h", uri).isPresent();
  }

  @Test
  void servesNothingBeforeTheFirstSnapshot() {
    assertThat(applier.version()).isEqualTo(SnapshotApplier.NONE);
    assertThat(applier.serving()).isEmpty();
    assertThat(routes("/ip")).isFalse();
  }

  @Test
  void appliesAValidSnapshot() {
    assertThat(applier.apply(routeTo(3, "/ip"), Source.CONTROL_PLANE, Optional.empty())).isTrue();

    assertThat(routes("/ip")).isTrue();
    assertThat(routes("/other")).isFalse();
    assertThat(applier.version()).isEqualTo(3);
    assertThat(applier.serving().orElseThrow().source()).isEqualTo(Source.CONTROL_PLANE);
    assertThat(applier.lastRejection()).isEmpty();
  }

  @Test
  void neverGoesBackToALowerVersion() {
    applier.apply(routeTo(5, "/ip"), Source.CONTROL_PLANE, Optional.empty());

    assertThat(applier.apply(routeTo(4, "/old"), Source.STORAGE, Optional.empty())).isFalse();

    assertThat(applier.version()).isEqualTo(5);
    assertThat(routes("/ip")).isTrue();
    assertThat(routes("/old")).isFalse();
    assertThat(applier.serving().orElseThrow().source()).isEqualTo(Source.CONTROL_PLANE);
  }

  @Test
  void theSameVersionFromAnotherSourceRelabelsItButNeverToCache() {
    applier.apply(routeTo(5, "/ip"), Source.STORAGE, Optional.empty());
    var table = applier.table();

    assertThat(applier.apply(routeTo(5, "/ip"), Source.CONTROL_PLANE, Optional.empty())).isTrue();
    assertThat(applier.serving().orElseThrow().source()).isEqualTo(Source.CONTROL_PLANE);
    assertThat(applier.table()).isSameAs(table);

    assertThat(applier.apply(routeTo(5, "/ip"), Source.CACHE, Optional.empty())).isTrue();
    assertThat(applier.serving().orElseThrow().source()).isEqualTo(Source.CONTROL_PLANE);
  }

  @Test
  void refusesARouteNamingAMissingUpstreamAndKeepsServing() {
    applier.apply(routeTo(1, "/ip"), Source.CONTROL_PLANE, Optional.empty());
    VerifiedExport dangling =
        Snapshots.raw(
            dir,
            SnapshotKind.RESOURCES,
            2,
            List.of(entry("routes", "r1", "{\"uri\":\"/new\",\"upstream_id\":\"missing\"}")));

    assertThat(applier.apply(dangling, Source.STORAGE, Optional.empty())).isFalse();

    assertThat(applier.version()).isEqualTo(1);
    assertThat(routes("/ip")).isTrue();
    assertThat(routes("/new")).isFalse();
    SnapshotApplier.Rejection rejection = applier.lastRejection().orElseThrow();
    assertThat(rejection.version()).isEqualTo(2);
    assertThat(rejection.source()).isEqualTo(Source.STORAGE);
    assertThat(rejection.reason()).contains("r1").contains("upstream_id").contains("missing");
  }

  @Test
  void refusesAnUnknownPluginAndKeepsServing() {
    applier.apply(routeTo(1, "/ip"), Source.CONTROL_PLANE, Optional.empty());
    VerifiedExport unknownPlugin =
        Snapshots.raw(
            dir,
            SnapshotKind.RESOURCES,
            2,
            List.of(
                entry("global_rules", "g", "{\"plugins\":{\"request-id\":{},\"ext-plugin\":{}}}"),
                entry(
                    "routes",
                    "r1",
                    "{\"uri\":\"/new\",\"upstream\":{\"nodes\":{\"127.0.0.1:80\":1}}}")));

    assertThat(applier.apply(unknownPlugin, Source.STORAGE, Optional.empty())).isFalse();

    assertThat(routes("/ip")).isTrue();
    assertThat(routes("/new")).isFalse();
    assertThat(applier.lastRejection().orElseThrow().reason())
        .contains("global_rule 'g': plugins.ext-plugin: unknown plugin 'ext-plugin'");
  }

  @Test
  void appliesASnapshotHoldingFieldsThisVersionRefusesAsAnOlderControlPlaneStoredThem() {
    applier.apply(routeTo(1, "/ip"), Source.CONTROL_PLANE, Optional.empty());
    // An older CP accepted "method" (and served every method); refusing the whole snapshot
    // would stop this DP from following its CP, so the field is ignored, with one WARN.
    VerifiedExport older =
        Snapshots.raw(
            dir,
            SnapshotKind.RESOURCES,
            2,
            List.of(
                entry(
                    "routes",
                    "r1",
                    "{\"uri\":\"/new\",\"host\":\"h\",\"method\":[\"POST\"],"
                        + "\"upstream\":{\"nodes\":{\"127.0.0.1:80\":1}}}")));

    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    Logger logger = (Logger) LoggerFactory.getLogger(SnapshotContent.class);
    logger.addAppender(logged);
    logged.start();
    try {
      assertThat(applier.apply(older, Source.CONTROL_PLANE, Optional.empty())).isTrue();
    } finally {
      logger.detachAppender(logged);
    }

    assertThat(applier.version()).isEqualTo(2);
    assertThat(routes("/new")).isTrue();
    assertThat(applier.lastRejection()).isEmpty();
    assertThat(logged.list)
        .singleElement()
        .satisfies(
            event -> {
              assertThat(event.getLevel()).isEqualTo(Level.WARN);
              assertThat(event.getFormattedMessage()).endsWith("ignored: route 'r1': method");
            });
  }

  @Test
  void refusesAnInvalidLineAndKeepsServing() {
    applier.apply(routeTo(1, "/ip"), Source.CONTROL_PLANE, Optional.empty());
    VerifiedExport invalid =
        Snapshots.raw(
            dir,
            SnapshotKind.RESOURCES,
            2,
            List.of(entry("upstreams", "u1", "{\"type\":\"no-such-balancer\",\"nodes\":{}}")));

    assertThat(applier.apply(invalid, Source.CONTROL_PLANE, Optional.empty())).isFalse();

    assertThat(applier.version()).isEqualTo(1);
    assertThat(routes("/ip")).isTrue();
    SnapshotApplier.Rejection rejection = applier.lastRejection().orElseThrow();
    assertThat(rejection.version()).isEqualTo(2);
    assertThat(rejection.reason()).contains("line 1").contains("u1");
  }

  @Test
  void savesAnAppliedSnapshotInTheCacheWithItsStorageEtag() {
    applier.apply(routeTo(7, "/ip"), Source.STORAGE, Optional.of(ETag.of("pointer-7")));

    LocalCache.Entry cached = cache.load().orElseThrow();
    assertThat(cached.export().version()).isEqualTo(7);
    assertThat(cached.storageEtag()).contains(ETag.of("pointer-7"));
  }

  @Test
  void doesNotSaveASnapshotThatCameFromTheCache() {
    applier.apply(routeTo(7, "/ip"), Source.CACHE, Optional.empty());

    assertThat(applier.version()).isEqualTo(7);
    assertThat(cache.load()).isEmpty();
  }

  @Test
  void aRefusedSnapshotIsNotCached() {
    applier.apply(routeTo(1, "/ip"), Source.CONTROL_PLANE, Optional.empty());
    applier.apply(
        Snapshots.raw(
            dir,
            SnapshotKind.RESOURCES,
            2,
            List.of(entry("routes", "r1", "{\"uri\":\"/x\",\"upstream_id\":\"missing\"}"))),
        Source.CONTROL_PLANE,
        Optional.empty());

    assertThat(cache.load().orElseThrow().export().version()).isEqualTo(1);
  }

  @Test
  void bothPartsOfAnExportSwitchTogether() {
    applier.apply(routeTo(4, "/ip"), Source.CONTROL_PLANE, Optional.empty());
    VerifiedExport withSettings =
        Snapshots.raw(
            dir,
            SnapshotKind.INSTANCE,
            5,
            List.of(entry("settings", "node", "{\"log_level\":\"info\"}")));

    assertThat(applier.apply(withSettings, Source.CONTROL_PLANE, Optional.empty())).isTrue();

    assertThat(applier.version()).isEqualTo(5);
    assertThat(applier.instance().orElseThrow().version()).isEqualTo(5);
    assertThat(applier.instance().orElseThrow())
        .isEqualTo(withSettings.manifest().part(SnapshotKind.INSTANCE));
    assertThat(routes("/ip")).as("export 5's resources part is empty").isFalse();
    assertThat(cache.load().orElseThrow().export().version()).isEqualTo(5);
  }
}
