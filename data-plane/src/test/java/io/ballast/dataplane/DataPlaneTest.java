package io.ballast.dataplane;

import static io.ballast.dataplane.Snapshots.entry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ballast.dataplane.DataPlane.Mode;
import io.ballast.dataplane.DataPlane.Transition;
import io.ballast.dataplane.SnapshotApplier.Source;
import io.ballast.dataplane.StandaloneFile.Format;
import io.ballast.snapshot.ExportFetcher;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.storage.ETag;
import io.ballast.storage.filesystem.FilesystemBackend;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
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
 * Every transition of the data plane's modes, in process: the sources are fakes that report what
 * each test says, the clock is moved by hand, nothing listens or sleeps.
 */
class DataPlaneTest {

  /** A fetcher the fake sources never use: the storage followers here are fakes. */
  private static ExportFetcher unusedFetcher() {
    FilesystemBackend unused =
        new FilesystemBackend(Path.of(System.getProperty("java.io.tmpdir"), "ballast-unused"));
    return new ExportFetcher(
        unused.bucket("resources"),
        unused.bucket("config"),
        new ExportLayout("", Snapshots.GROUP),
        SignatureVerifier.notRequired());
  }

  private static final URI CP = URI.create("http://cp:9280");
  private static final Deployment.Storage STORAGE =
      new Deployment.Storage(List.of(unusedFetcher()), Duration.ofSeconds(10));
  private static final Deployment WITH_FALLBACK =
      new Deployment.ControlPlane(List.of(CP), Snapshots.GROUP, Optional.of(STORAGE));

  /** Sources that only record that they started and stopped, and what was served then. */
  private final class FakeSources implements Sources {
    final List<String> started = new ArrayList<>();
    final List<String> closed = new ArrayList<>();
    final List<Long> servedAtStart = new ArrayList<>();
    StandaloneFileFollower file;

    private Follower follower(String name, DataPlane dataPlane) {
      started.add(name);
      servedAtStart.add(dataPlane.version());
      return () -> closed.add(name);
    }

    @Override
    public Follower controlPlane(List<URI> hosts, String gatewayGroup, DataPlane dataPlane) {
      return follower("control_plane", dataPlane);
    }

    @Override
    public Follower storage(
        ExportFetcher fetcher,
        Duration interval,
        Optional<ETag> cachedPointer,
        DataPlane dataPlane) {
      return follower("storage" + cachedPointer.map(e -> " " + e.value()).orElse(""), dataPlane);
    }

    /** The real follower, not started: the test calls {@link StandaloneFileFollower#check()}. */
    @Override
    public Follower standaloneFile(Deployment.File settings, DataPlane dataPlane) {
      follower("file", dataPlane);
      file =
          new StandaloneFileFollower(
              settings.path(),
              settings.format(),
              dataPlane,
              dir.resolve("work"),
              settings.env(),
              settings.pollInterval(),
              settings.producer(),
              clock);
      return file;
    }

    @Override
    public Follower localControlPlane(Flux<VerifiedExport> exports, DataPlane dataPlane) {
      return follower("local", dataPlane);
    }
  }

  @TempDir Path dir;
  private final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final FakeSources sources = new FakeSources();
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private LocalCache cache;
  private DataPlane dataPlane;

  @BeforeEach
  void create() {
    cache = new LocalCache(dir.resolve("cache"));
    logged.start();
    dataPlaneLogger().addAppender(logged);
  }

  @AfterEach
  void stop() {
    dataPlaneLogger().detachAppender(logged);
    if (dataPlane != null) {
      dataPlane.close();
    }
  }

  private static ch.qos.logback.classic.Logger dataPlaneLogger() {
    return (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(DataPlane.class);
  }

  private DataPlane start(Deployment deployment) {
    dataPlane = new DataPlane(deployment, new SnapshotApplier(cache, clock), cache, sources, clock);
    dataPlane.start();
    return dataPlane;
  }

  private VerifiedExport routeTo(long version, String uri) {
    return Snapshots.resources(dir, version, Snapshots.routeTo(uri));
  }

  private VerifiedExport invalid(long version) {
    return Snapshots.raw(
        dir,
        SnapshotKind.RESOURCES,
        version,
        List.of(entry("routes", "r1", "{\"uri\":\"/x\",\"upstream_id\":\"missing\"}")));
  }

  private void cached(long version, String uri, Optional<ETag> pointer) {
    cache.save(routeTo(version, uri), pointer);
  }

  private boolean routes(String uri) {
    return dataPlane.table().match("GET", "h", uri).isPresent();
  }

  private long version() {
    return dataPlane.version();
  }

  private Transition lastTransition() {
    List<Transition> transitions = dataPlane.transitions();
    return transitions.get(transitions.size() - 1);
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> section(String name) {
    return (Map<String, Object>) dataPlane.status().get(name);
  }

  /** A CP-following DP that took version {@code version} from the CP. */
  private void followingTheControlPlane(long version, String uri) {
    start(WITH_FALLBACK);
    dataPlane.controlPlaneAnswered(CP);
    assertThat(dataPlane.offer(routeTo(version, uri), Source.CONTROL_PLANE, Optional.empty()))
        .isTrue();
    assertThat(dataPlane.mode()).isEqualTo(Mode.CONTROL_PLANE);
  }

  @Test
  void startsWithNothingAndSaysSo() {
    start(WITH_FALLBACK);

    assertThat(dataPlane.mode()).isEqualTo(Mode.NOT_SERVING);
    assertThat(dataPlane.serving()).isFalse();
    assertThat(dataPlane.transitions()).isEmpty();
    assertThat(sources.started).containsExactly("control_plane", "storage");
    // The CP has not answered yet: storage is polled, for a DP starting during a CP outage.
    assertThat(dataPlane.pollsStorage()).isTrue();
    assertThat(section("config")).containsEntry("source", "none");
    assertThat(section("control_plane")).containsEntry("state", "disconnected");
    assertThat(section("data_plane"))
        .containsEntry("mode", "not_serving")
        .containsEntry("since", "2026-01-01T00:00:00Z")
        .containsEntry("reason", "no snapshot loaded yet")
        .containsEntry("transitions", List.of());
  }

  @Test
  void servesTheCacheBeforeAnySourceStartsThenMovesToTheControlPlane() {
    cached(41, "/cached", Optional.of(ETag.of("pointer-41")));

    start(WITH_FALLBACK);

    assertThat(dataPlane.mode()).isEqualTo(Mode.CACHE);
    assertThat(routes("/cached")).isTrue();
    assertThat(sources.servedAtStart).containsOnly(41L);
    // The cached pointer lets the first storage poll be a 304.
    assertThat(sources.started).contains("storage pointer-41");
    assertThat(lastTransition())
        .isEqualTo(
            new Transition(
                Mode.NOT_SERVING,
                Mode.CACHE,
                "snapshot 41 loaded from the local cache",
                clock.instant()));

    clock.advance(Duration.ofSeconds(3));
    dataPlane.controlPlaneAnswered(CP);

    assertThat(dataPlane.mode()).isEqualTo(Mode.CONTROL_PLANE);
    assertThat(lastTransition().reason())
        .isEqualTo("control plane http://cp:9280 answered; storage polling stops");
    assertThat(dataPlane.pollsStorage()).isFalse();

    dataPlane.offer(routeTo(42, "/new"), Source.CONTROL_PLANE, Optional.empty());

    assertThat(version()).isEqualTo(42);
    assertThat(routes("/new")).isTrue();
    assertThat(dataPlane.mode()).isEqualTo(Mode.CONTROL_PLANE);
    assertThat(dataPlane.transitions()).hasSize(2);
    assertThat(section("config")).containsEntry("source", "control_plane");
    assertThat(section("control_plane"))
        .containsEntry("state", "connected")
        .containsEntry("since", "2026-01-01T00:00:03Z");
    assertThat(section("data_plane"))
        .containsEntry("mode", "control_plane")
        .containsEntry("since", "2026-01-01T00:00:03Z")
        .containsEntry("reason", "control plane http://cp:9280 answered; storage polling stops");
  }

  @Test
  void nothingServedStaysNotServingWhateverTheSourcesSayUntilASnapshotIsApplied() {
    start(WITH_FALLBACK);

    dataPlane.controlPlaneAnswered(CP);
    dataPlane.controlPlaneUnreachable(CP, new ConnectException("Connection refused"));
    dataPlane.storageUnchanged(DataPlane.ONE_BACKEND);

    assertThat(dataPlane.mode()).isEqualTo(Mode.NOT_SERVING);
    assertThat(dataPlane.transitions()).isEmpty();

    dataPlane.offer(routeTo(5, "/ip"), Source.STORAGE, Optional.empty());

    assertThat(dataPlane.mode()).isEqualTo(Mode.STORAGE);
    assertThat(lastTransition().reason())
        .isEqualTo("storage snapshot 5 applied; nothing was served");
  }

  @Test
  void losingTheControlPlaneKeepsServingPollsStorageAndTakesItsNewerVersion() {
    followingTheControlPlane(41, "/ip");

    clock.advance(Duration.ofSeconds(1));
    dataPlane.controlPlaneUnreachable(CP, new ConnectException("Connection refused"));

    assertThat(dataPlane.mode()).isEqualTo(Mode.CACHE);
    assertThat(lastTransition().reason())
        .isEqualTo("control plane http://cp:9280 unreachable: Connection refused; polling storage");
    assertThat(dataPlane.pollsStorage()).isTrue();
    assertThat(version()).isEqualTo(41);
    assertThat(routes("/ip")).isTrue();
    assertThat(section("control_plane"))
        .containsEntry("state", "disconnected")
        .containsEntry("last_error", "java.net.ConnectException: Connection refused");

    dataPlane.offer(routeTo(42, "/newer"), Source.STORAGE, Optional.of(ETag.of("pointer-42")));

    assertThat(dataPlane.mode()).isEqualTo(Mode.STORAGE);
    assertThat(lastTransition().reason()).isEqualTo("storage snapshot 42 is newer than cached 41");
    assertThat(version()).isEqualTo(42);
    assertThat(routes("/newer")).isTrue();
    assertThat(section("config")).containsEntry("source", "storage");

    dataPlane.offer(routeTo(43, "/newest"), Source.STORAGE, Optional.of(ETag.of("pointer-43")));

    assertThat(version()).isEqualTo(43);
    assertThat(dataPlane.mode()).isEqualTo(Mode.STORAGE);
    // A newer version in the same mode is not a transition.
    assertThat(dataPlane.transitions()).hasSize(3);
  }

  @Test
  void storageHoldingTheServedOrAnOlderVersionStillAnswers() {
    followingTheControlPlane(41, "/ip");
    dataPlane.controlPlaneUnreachable(
        CP, new IOException("control plane http://cp:9280 answered 503"));

    assertThat(lastTransition().reason())
        .isEqualTo("control plane http://cp:9280 answered 503; polling storage");

    // The CP's exporter lags behind: storage has an older version, which is not applied.
    assertThat(dataPlane.offer(routeTo(40, "/old"), Source.STORAGE, Optional.empty())).isFalse();

    assertThat(dataPlane.mode()).isEqualTo(Mode.STORAGE);
    assertThat(lastTransition().reason())
        .isEqualTo("storage holds version 40, older than the served 41");
    assertThat(version()).isEqualTo(41);
    assertThat(routes("/ip")).isTrue();
    // The snapshot came from the CP; storage now vouches for the DP's source, not the label.
    assertThat(section("config")).containsEntry("source", "control_plane");
  }

  @Test
  void storageFailingFallsBackToTheCacheAndAnUnchangedPointerAnswersAgain() {
    followingTheControlPlane(41, "/ip");
    dataPlane.controlPlaneUnreachable(CP, new ConnectException("Connection refused"));
    dataPlane.offer(routeTo(41, "/ip"), Source.STORAGE, Optional.empty());
    assertThat(dataPlane.mode()).isEqualTo(Mode.STORAGE);
    assertThat(lastTransition().reason()).isEqualTo("storage holds the served version 41");

    dataPlane.storageFailed(DataPlane.ONE_BACKEND, "bucket 'ballast' unreachable: timeout");

    assertThat(dataPlane.mode()).isEqualTo(Mode.CACHE);
    assertThat(lastTransition().reason())
        .isEqualTo("storage: bucket 'ballast' unreachable: timeout");
    assertThat(version()).isEqualTo(41);

    dataPlane.storageUnchanged(DataPlane.ONE_BACKEND);

    assertThat(dataPlane.mode()).isEqualTo(Mode.STORAGE);
  }

  @Test
  void withRedundantStorageOneBackendDownChangesNoModeAndTheNewestExportWins() {
    cached(41, "/cached", Optional.empty());
    start(new Deployment.StorageOnly(STORAGE));
    dataPlane.storageUnchanged("aws_s3 bucket 'a'");
    dataPlane.storageUnchanged("azure_blob:b");
    assertThat(dataPlane.mode()).isEqualTo(Mode.STORAGE);
    int transitions = dataPlane.transitions().size();

    dataPlane.storageFailed("aws_s3 bucket 'a'", "aws_s3 bucket 'a': connection refused");
    dataPlane.storageUnchanged("azure_blob:b");
    dataPlane.storageFailed("aws_s3 bucket 'a'", "aws_s3 bucket 'a': connection refused");

    assertThat(dataPlane.mode()).isEqualTo(Mode.STORAGE);
    assertThat(dataPlane.transitions()).hasSize(transitions);

    // Each backend offers what its pointer names; only a newer one is applied.
    assertThat(dataPlane.storageOffers("azure_blob:b", routeTo(43, "/newest"), ETag.of("b-43")))
        .isTrue();
    assertThat(dataPlane.storageOffers("aws_s3 bucket 'a'", routeTo(42, "/older"), ETag.of("a-42")))
        .isFalse();
    assertThat(version()).isEqualTo(43);
    assertThat(routes("/newest")).isTrue();

    // The first backend answered again (with an older export); storage is down once both fail.
    dataPlane.storageFailed("azure_blob:b", "azure_blob:b: timeout");
    assertThat(dataPlane.mode()).isEqualTo(Mode.STORAGE);
    dataPlane.storageFailed("aws_s3 bucket 'a'", "aws_s3 bucket 'a': connection refused");

    assertThat(dataPlane.mode()).isEqualTo(Mode.CACHE);
    assertThat(lastTransition().reason())
        .isEqualTo("storage: aws_s3 bucket 'a': connection refused");
  }

  @Test
  void theControlPlaneBackStopsStoragePollingAndALatePollChangesNothing() {
    followingTheControlPlane(41, "/ip");
    dataPlane.controlPlaneUnreachable(CP, new ConnectException("Connection refused"));
    dataPlane.offer(routeTo(42, "/newer"), Source.STORAGE, Optional.empty());
    assertThat(dataPlane.mode()).isEqualTo(Mode.STORAGE);

    dataPlane.controlPlaneAnswered(URI.create("http://cp2:9280"));

    assertThat(dataPlane.mode()).isEqualTo(Mode.CONTROL_PLANE);
    assertThat(dataPlane.pollsStorage()).isFalse();
    assertThat(lastTransition())
        .extracting(Transition::from, Transition::to, Transition::reason)
        .containsExactly(
            Mode.STORAGE,
            Mode.CONTROL_PLANE,
            "control plane http://cp2:9280 answered; storage polling stops");

    // A poll that was under way: its newer version is served (versions only rise), the CP stays
    // the source followed.
    dataPlane.offer(routeTo(43, "/late"), Source.STORAGE, Optional.empty());

    assertThat(version()).isEqualTo(43);
    assertThat(dataPlane.mode()).isEqualTo(Mode.CONTROL_PLANE);
    assertThat(dataPlane.transitions()).hasSize(4);

    // The CP confirms the version: the status names it as the source again.
    dataPlane.confirm(43, Source.CONTROL_PLANE);
    assertThat(section("config")).containsEntry("source", "control_plane");
  }

  @Test
  void aRefusedSnapshotLeavesTheModeAndTheVersion() {
    followingTheControlPlane(41, "/ip");
    List<Transition> before = dataPlane.transitions();

    assertThat(dataPlane.offer(invalid(42), Source.CONTROL_PLANE, Optional.empty())).isFalse();

    assertThat(dataPlane.mode()).isEqualTo(Mode.CONTROL_PLANE);
    assertThat(version()).isEqualTo(41);
    assertThat(routes("/ip")).isTrue();
    assertThat(dataPlane.transitions()).isEqualTo(before);
    assertThat(section("last_rejection"))
        .containsEntry("version", 42L)
        .containsEntry("source", "control_plane");

    // Nor does storage answering with a refused snapshot make it the source.
    dataPlane.controlPlaneUnreachable(CP, new ConnectException("Connection refused"));
    assertThat(dataPlane.offer(invalid(43), Source.STORAGE, Optional.empty())).isFalse();
    dataPlane.reject(44, Source.STORAGE, "body does not match its manifest");

    assertThat(dataPlane.mode()).isEqualTo(Mode.CACHE);
    assertThat(version()).isEqualTo(41);
    assertThat(section("last_rejection")).containsEntry("version", 44L);
  }

  @Test
  void withoutStorageALostControlPlaneLeavesTheCache() {
    start(new Deployment.ControlPlane(List.of(CP), Snapshots.GROUP, Optional.empty()));
    assertThat(sources.started).containsExactly("control_plane");
    dataPlane.controlPlaneAnswered(CP);
    dataPlane.offer(routeTo(41, "/ip"), Source.CONTROL_PLANE, Optional.empty());

    dataPlane.controlPlaneUnreachable(CP, new ConnectException("Connection refused"));

    assertThat(dataPlane.mode()).isEqualTo(Mode.CACHE);
    assertThat(lastTransition().reason())
        .isEqualTo("control plane http://cp:9280 unreachable: Connection refused");
    assertThat(dataPlane.pollsStorage()).isFalse();
    assertThat(routes("/ip")).isTrue();
  }

  @Test
  void storageOnlyPollsAlwaysAndAnswersWithItsPointer() {
    cached(41, "/cached", Optional.of(ETag.of("pointer-41")));

    start(new Deployment.StorageOnly(STORAGE));

    assertThat(sources.started).containsExactly("storage pointer-41");
    assertThat(dataPlane.mode()).isEqualTo(Mode.CACHE);
    assertThat(dataPlane.pollsStorage()).isTrue();
    assertThat(section("control_plane")).isEqualTo(Map.of("state", "not_used"));

    dataPlane.storageUnchanged(DataPlane.ONE_BACKEND);

    assertThat(dataPlane.mode()).isEqualTo(Mode.STORAGE);
    assertThat(version()).isEqualTo(41);

    dataPlane.offer(routeTo(42, "/new"), Source.STORAGE, Optional.of(ETag.of("pointer-42")));

    assertThat(dataPlane.mode()).isEqualTo(Mode.STORAGE);
    assertThat(routes("/new")).isTrue();
    assertThat(dataPlane.pollsStorage()).isTrue();
  }

  @Test
  void theFileModeServesValidContentAndReportsErrorsWithoutLeavingIt() throws IOException {
    Path file = dir.resolve("apisix.yaml");
    start(new Deployment.File(file, Format.YAML, name -> null, Duration.ofSeconds(1), "test"));
    assertThat(sources.started).containsExactly("file");

    sources.file.check();

    assertThat(dataPlane.mode()).isEqualTo(Mode.NOT_SERVING);
    assertThat(section("standalone_file"))
        .containsEntry("path", file.toString())
        .containsEntry("last_check", "2026-01-01T00:00:00Z")
        .containsEntry("last_error", file + ": file not found");
    assertThat(section("control_plane")).isEqualTo(Map.of("state", "not_used"));

    writeRoute(file, "/a");
    sources.file.check();

    assertThat(dataPlane.mode()).isEqualTo(Mode.FILE);
    assertThat(routes("/a")).isTrue();
    assertThat(section("standalone_file")).doesNotContainKey("last_error");
    long version = version();

    Files.writeString(file, "routes:\n  - id: r\n    uri: no-slash\n#END\n");
    sources.file.check();

    assertThat(dataPlane.mode()).isEqualTo(Mode.FILE);
    assertThat(version()).isEqualTo(version);
    assertThat(routes("/a")).isTrue();
    assertThat((String) section("standalone_file").get("last_error")).contains(": uri: ");
    assertThat(section("last_rejection")).containsEntry("source", "file");
    assertThat(dataPlane.transitions()).hasSize(1);
  }

  @Test
  void aBrokenFileAtStartKeepsTheCacheUntilItIsFixed() throws IOException {
    cached(41, "/cached", Optional.empty());
    Path file = dir.resolve("apisix.yaml");
    Files.writeString(file, "routes: [\n#END\n");
    start(new Deployment.File(file, Format.YAML, name -> null, Duration.ofSeconds(1), "test"));

    sources.file.check();

    assertThat(dataPlane.mode()).isEqualTo(Mode.CACHE);
    assertThat(routes("/cached")).isTrue();
    assertThat(section("standalone_file")).containsKey("last_error");

    writeRoute(file, "/fixed");
    sources.file.check();

    assertThat(dataPlane.mode()).isEqualTo(Mode.FILE);
    assertThat(routes("/fixed")).isTrue();
    assertThat(version()).isGreaterThan(41);
  }

  private static void writeRoute(Path file, String uri) throws IOException {
    Files.writeString(
        file,
        "routes:\n  - id: r\n    uri: "
            + uri
            + "\n    upstream: {nodes: {\"127.0.0.1:1980\": 1}, type: roundrobin}\n#END\n");
  }

  @Test
  void theTraditionalRoleFollowsItsOwnControlPlane() {
    cached(41, "/cached", Optional.empty());

    start(new Deployment.Traditional(Flux::never));

    assertThat(sources.started).containsExactly("local");
    assertThat(dataPlane.mode()).isEqualTo(Mode.CACHE);
    assertThat(dataPlane.pollsStorage()).isFalse();
    assertThat(dataPlane.status()).doesNotContainKey("control_plane");

    // The node's CP rebuilt the cached version: it is confirmed, and now followed.
    dataPlane.offer(routeTo(41, "/cached"), Source.CONTROL_PLANE, Optional.empty());

    assertThat(dataPlane.mode()).isEqualTo(Mode.CONTROL_PLANE);
    assertThat(lastTransition().reason())
        .isEqualTo("snapshot 41 built by this node's control plane");
  }

  @Test
  void eachTransitionIsLoggedOnceAtInfoOrAtWarnWhenItLeavesTheControlPlane() {
    followingTheControlPlane(41, "/ip");
    assertThat(logged.list)
        .extracting(ILoggingEvent::getLevel, ILoggingEvent::getFormattedMessage)
        .containsExactly(
            // Not a transition (nothing served yet), still news.
            tuple(Level.INFO, "control plane http://cp:9280 answered; storage polling stops"),
            tuple(
                Level.INFO,
                "data plane mode not_serving -> control_plane: control plane snapshot 41 applied"));
    logged.list.clear();

    dataPlane.controlPlaneUnreachable(CP, new ConnectException("Connection refused"));
    // Failing again: no news.
    dataPlane.controlPlaneUnreachable(CP, new ConnectException("Connection refused"));
    dataPlane.controlPlaneAnswered(CP);
    dataPlane.controlPlaneAnswered(CP);

    assertThat(logged.list)
        .extracting(ILoggingEvent::getLevel, ILoggingEvent::getFormattedMessage)
        .containsExactly(
            tuple(
                Level.WARN,
                "data plane mode control_plane -> cache: control plane http://cp:9280"
                    + " unreachable: Connection refused; polling storage"),
            tuple(
                Level.INFO,
                "data plane mode cache -> control_plane: control plane http://cp:9280 answered;"
                    + " storage polling stops"));
  }

  @Test
  void theStatusKeepsTheLastTransitionsOldestFirst() {
    followingTheControlPlane(1, "/ip");
    for (int i = 0; i < 2 * DataPlane.TRANSITIONS_KEPT; i++) {
      clock.advance(Duration.ofSeconds(1));
      dataPlane.controlPlaneUnreachable(CP, new ConnectException("refused " + i));
      dataPlane.controlPlaneAnswered(CP);
    }

    @SuppressWarnings("unchecked")
    List<Map<String, Object>> transitions =
        (List<Map<String, Object>>) section("data_plane").get("transitions");
    assertThat(transitions).hasSize(DataPlane.TRANSITIONS_KEPT);
    assertThat(transitions.get(0))
        .containsEntry("from", "control_plane")
        .containsEntry("to", "cache")
        .containsEntry(
            "reason", "control plane http://cp:9280 unreachable: refused 15; polling storage");
    assertThat(transitions.get(DataPlane.TRANSITIONS_KEPT - 1))
        .containsEntry("from", "cache")
        .containsEntry("to", "control_plane")
        .containsEntry("at", clock.instant().toString());
  }

  @Test
  void closeStopsTheSourcesTheLastStartedFirst() {
    start(WITH_FALLBACK);

    dataPlane.close();

    assertThat(sources.closed).containsExactly("storage", "control_plane");
  }
}
