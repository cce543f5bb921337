package io.ballast.dataplane;

import static io.ballast.dataplane.Snapshots.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.controlplane.ConfServerApi;
import io.ballast.controlplane.SnapshotBuilder;
import io.ballast.controlplane.store.ConfigStore;
import io.ballast.resource.ResourceType;
import io.ballast.snapshot.ConfServerProtocol;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SigningKeys;
import io.ballast.snapshot.SnapshotEntry;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotSigner;
import io.ballast.snapshot.VerifiedExport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.Scannable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

class ControlPlaneFollowerTest {

  private static final Duration LIMIT = Duration.ofSeconds(5);
  private static final String RESOURCES = ConfServerProtocol.EXPORT_PATH;

  @TempDir Path dir;
  private int port;
  private ConfigStore store;
  private SnapshotBuilder builder;
  private DisposableServer server;
  private SnapshotApplier applier;
  private DataPlane dataPlane;
  private ControlPlaneFollower follower;
  private final SnapshotSigner signer = new SnapshotSigner(SigningKeys.generate());
  private SignatureVerifier verifier = SignatureVerifier.notRequired();
  private Sinks.Empty<Void> kill;

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  @BeforeEach
  void create() throws IOException {
    port = freePort();
    LocalCache cache = new LocalCache(dir.resolve("cache"));
    applier = new SnapshotApplier(cache, Clock.systemUTC());
    // Not started: the test starts its one follower itself.
    dataPlane =
        new DataPlane(
            new Deployment.ControlPlane(List.of(), Snapshots.GROUP, Optional.empty()),
            applier,
            cache,
            new Followers(dir.resolve("downloads"), Clock.systemUTC()),
            Clock.systemUTC());
  }

  @AfterEach
  void stop() {
    if (follower != null) {
      follower.close();
    }
    // An apply already under way still writes the local cache; let it end before the temp folder
    // is deleted.
    synchronized (applier) {
    }
    if (server != null) {
      server.disposeNow(Duration.ofSeconds(1));
    }
    if (builder != null) {
      builder.close();
    }
    if (store != null) {
      store.close();
    }
  }

  private void startControlPlane() {
    store = ConfigStore.open(dir.resolve("store"));
    builder =
        new SnapshotBuilder(
            store,
            dir.resolve("snapshots"),
            new ExportLayout("", Snapshots.GROUP),
            "cp-test",
            () -> Snapshots.LINEAGE,
            signer,
            Duration.ofMinutes(15),
            Clock.systemUTC());
    builder.start(List.of());
  }

  /** Serves {@code routes} on the test port, waiting for a just-closed server to let it go. */
  private void serve(RouterFunction<ServerResponse> routes) {
    long deadline = System.nanoTime() + LIMIT.toNanos();
    while (true) {
      try {
        server =
            HttpServer.create()
                .host("127.0.0.1")
                .port(port)
                .handle(new ReactorHttpHandlerAdapter(RouterFunctions.toHttpHandler(routes)))
                .bindNow();
        return;
      } catch (RuntimeException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
    }
  }

  /**
   * The conf server of the store, able to die as a CP process does. Disposing an in-JVM server only
   * closes its port: a pending long poll and idle keep-alive connections stay open and keep being
   * served, while a stopped process closes every socket. So after {@link #kill()} each request on
   * an old connection, pending or new, is answered with {@code Connection: close}.
   */
  private RouterFunction<ServerResponse> killableConfServer() {
    Sinks.Empty<Void> killed = Sinks.empty();
    kill = killed;
    return new ConfServerApi(builder, Snapshots.GROUP)
        .routes()
        .filter(
            (request, next) ->
                killed.scan(Scannable.Attr.TERMINATED) == Boolean.TRUE
                    ? closing()
                    : Mono.firstWithSignal(
                        next.handle(request), killed.asMono().then(Mono.defer(this::closing))));
  }

  private Mono<ServerResponse> closing() {
    return ServerResponse.status(HttpStatus.SERVICE_UNAVAILABLE)
        .header(HttpHeaders.CONNECTION, "close")
        .build();
  }

  private void kill() {
    kill.tryEmitEmpty();
    server.disposeNow(Duration.ofSeconds(1));
  }

  private void startFollower() {
    startFollower(List.of(URI.create("http://127.0.0.1:" + port)));
  }

  private void startFollower(List<URI> hosts) {
    follower =
        new ControlPlaneFollower(
            hosts,
            Snapshots.GROUP,
            dataPlane,
            dir.resolve("downloads"),
            Optional.empty(),
            verifier);
    follower.start();
  }

  private void put(ResourceType type, String id, String json) {
    store.put(Snapshots.resource(type, id, json));
  }

  private void route(String id, String uri) {
    put(ResourceType.ROUTES, id, "{\"uri\":\"" + uri + "\",\"host\":\"h\",\"upstream_id\":\"u1\"}");
  }

  private long version() {
    return applier.version();
  }

  private void awaitServed(long version) {
    await("version " + version + " is served", LIMIT, () -> version() == version);
  }

  private boolean routes(String uri) {
    return applier.table().match("GET", "h", uri).isPresent();
  }

  @Test
  void followsTheStoreSurvivesTheServersLossAndReconnects() {
    startControlPlane();
    put(ResourceType.UPSTREAMS, "u1", Snapshots.UPSTREAM);
    route("r1", "/ip");
    serve(killableConfServer());
    startFollower();

    awaitServed(store.revision());
    assertThat(dataPlane.controlPlaneConnected()).isTrue();
    assertThat(routes("/ip")).isTrue();
    assertThat(applier.serving().orElseThrow().source())
        .isEqualTo(SnapshotApplier.Source.CONTROL_PLANE);

    route("r2", "/headers");
    awaitServed(store.revision());
    assertThat(routes("/headers")).isTrue();

    kill();
    await("the connection is lost", LIMIT, () -> !dataPlane.controlPlaneConnected());
    assertThat(dataPlane.controlPlaneError()).isPresent();
    assertThat(version()).isEqualTo(store.revision());
    assertThat(routes("/ip")).isTrue();
    assertThat(routes("/headers")).isTrue();

    serve(killableConfServer());
    // The follower is back once its long poll is answered: a write answers it at once.
    route("r3", "/status");
    awaitServed(store.revision());
    assertThat(dataPlane.controlPlaneConnected()).isTrue();
    assertThat(routes("/status")).isTrue();
  }

  /**
   * A conf server that answers {@code snapshot}'s manifest (then long polls while the follower
   * names it) and {@code body} for its body, counting the body requests.
   */
  private RouterFunction<ServerResponse> fakeServer(
      VerifiedExport snapshot,
      byte[] body,
      AtomicInteger manifestRequests,
      AtomicInteger bodyRequests) {
    String etag = ConfServerProtocol.etagOf(snapshot.version());
    return RouterFunctions.route()
        .GET(
            RESOURCES,
            request -> {
              manifestRequests.incrementAndGet();
              if (etag.equals(request.headers().firstHeader("If-None-Match"))) {
                return Mono.delay(Duration.ofMillis(200))
                    .then(ServerResponse.status(HttpStatus.NOT_MODIFIED).eTag(etag).build());
              }
              return ServerResponse.ok()
                  .contentType(MediaType.APPLICATION_JSON)
                  .eTag(etag)
                  .bodyValue(snapshot.signed().json());
            })
        .GET(
            ConfServerProtocol.partPath(snapshot.version(), SnapshotKind.RESOURCES),
            request -> {
              bodyRequests.incrementAndGet();
              return ServerResponse.ok().bodyValue(body);
            })
        .GET(
            ConfServerProtocol.partPath(snapshot.version(), SnapshotKind.INSTANCE),
            request ->
                ServerResponse.ok().bodyValue(readAll(snapshot.part(SnapshotKind.INSTANCE).body())))
        .build();
  }

  private static byte[] readAll(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void aManifestOfTheVersionServedConfirmsItWithoutADownload() {
    VerifiedExport snapshot = Snapshots.resources(dir, 7, Snapshots.routeTo("/ip"));
    applier.apply(snapshot, SnapshotApplier.Source.STORAGE, Optional.empty());
    AtomicInteger bodyRequests = new AtomicInteger();
    // What a poll that left before the DP took version 7 from storage gets: the manifest (without
    // an ETag, which would let WebFlux answer the follower's If-None-Match with a 304).
    serve(
        RouterFunctions.route()
            .GET(
                RESOURCES,
                request ->
                    Mono.delay(Duration.ofMillis(50))
                        .then(
                            ServerResponse.ok()
                                .contentType(MediaType.APPLICATION_JSON)
                                .bodyValue(snapshot.signed().json())))
            .GET(
                ConfServerProtocol.partPath(7, SnapshotKind.RESOURCES),
                request -> {
                  bodyRequests.incrementAndGet();
                  return ServerResponse.notFound().build();
                })
            .build());
    startFollower();

    await(
        "the control plane confirms version 7",
        LIMIT,
        () -> applier.serving().orElseThrow().source() == SnapshotApplier.Source.CONTROL_PLANE);
    assertThat(version()).isEqualTo(7);
    assertThat(bodyRequests).hasValue(0);
  }

  @Test
  void refusesABodyThatDoesNotMatchItsManifestWithoutAskingAgain() {
    VerifiedExport snapshot = Snapshots.resources(dir, 7, Snapshots.routeTo("/ip"));
    AtomicInteger manifestRequests = new AtomicInteger();
    AtomicInteger bodyRequests = new AtomicInteger();
    serve(fakeServer(snapshot, "not the body".getBytes(), manifestRequests, bodyRequests));
    startFollower();

    await("the body is refused", LIMIT, () -> applier.lastRejection().isPresent());
    SnapshotApplier.Rejection rejection = applier.lastRejection().orElseThrow();
    assertThat(rejection.version()).isEqualTo(7);
    assertThat(rejection.reason()).contains("does not match its manifest");

    int polls = manifestRequests.get();
    await("five more polls", LIMIT, () -> manifestRequests.get() >= polls + 5);
    assertThat(bodyRequests).hasValue(1);
    assertThat(version()).isEqualTo(SnapshotApplier.NONE);
    assertThat(dataPlane.controlPlaneConnected()).isTrue();
  }

  @Test
  void refusesInvalidContentWithoutAskingAgain() throws IOException {
    VerifiedExport invalid =
        Snapshots.raw(
            dir,
            SnapshotKind.RESOURCES,
            7,
            List.<SnapshotEntry>of(
                Snapshots.entry("routes", "r1", "{\"uri\":\"/ip\",\"upstream_id\":\"missing\"}")));
    AtomicInteger manifestRequests = new AtomicInteger();
    AtomicInteger bodyRequests = new AtomicInteger();
    serve(
        fakeServer(
            invalid,
            Files.readAllBytes(invalid.part(SnapshotKind.RESOURCES).body()),
            manifestRequests,
            bodyRequests));
    startFollower();

    await("the content is refused", LIMIT, () -> applier.lastRejection().isPresent());
    assertThat(applier.lastRejection().orElseThrow().reason()).contains("upstream 'missing'");

    int polls = manifestRequests.get();
    await("five more polls", LIMIT, () -> manifestRequests.get() >= polls + 5);
    assertThat(bodyRequests).hasValue(1);
    assertThat(version()).isEqualTo(SnapshotApplier.NONE);
  }

  @Test
  void aDataPlaneAheadOfTheControlPlaneWaitsInsteadOfSpinning() throws InterruptedException {
    // E.g. a CP whose store was lost and restarted empty, while DPs serve what they had.
    applier.apply(
        Snapshots.resources(dir, 10, Snapshots.routeTo("/ip")),
        SnapshotApplier.Source.STORAGE,
        Optional.empty());
    startControlPlane();
    put(ResourceType.UPSTREAMS, "u1", Snapshots.UPSTREAM);
    AtomicInteger manifestRequests = new AtomicInteger();
    serve(
        new ConfServerApi(builder, Snapshots.GROUP)
            .routes()
            .filter(
                (request, next) -> {
                  manifestRequests.incrementAndGet();
                  return next.handle(request);
                }));
    startFollower();

    await("the follower asks", LIMIT, () -> manifestRequests.get() > 0);
    // Nothing to wait for: a spinning follower asks hundreds of times in this window.
    Thread.sleep(1000);

    assertThat(manifestRequests.get()).isLessThanOrEqualTo(2);
    assertThat(version()).isEqualTo(10);
    assertThat(routes("/ip")).isTrue();
  }

  @Test
  void movesOnToTheNextHostWhenOneIsDown() throws IOException {
    startControlPlane();
    put(ResourceType.UPSTREAMS, "u1", Snapshots.UPSTREAM);
    route("r1", "/ip");
    serve(new ConfServerApi(builder, Snapshots.GROUP).routes());
    int nobodyListens = freePort();

    startFollower(
        List.of(
            URI.create("http://127.0.0.1:" + nobodyListens),
            URI.create("http://127.0.0.1:" + port)));

    awaitServed(store.revision());
    assertThat(routes("/ip")).isTrue();
    assertThat(dataPlane.controlPlaneConnected()).isTrue();
  }

  @Test
  void anExportNotSignedByATrustedKeyIsRefusedBeforeItsBodies() {
    verifier = SignatureVerifier.trusting(List.of(signer.publicKey()));
    VerifiedExport unsigned = Snapshots.resources(dir, 7, Snapshots.routeTo("/ip"));
    AtomicInteger manifestRequests = new AtomicInteger();
    AtomicInteger bodyRequests = new AtomicInteger();
    serve(
        fakeServer(
            unsigned,
            readAll(unsigned.part(SnapshotKind.RESOURCES).body()),
            manifestRequests,
            bodyRequests));
    startFollower();

    await("the manifest is refused", LIMIT, () -> applier.lastRejection().isPresent());
    SnapshotApplier.Rejection rejection = applier.lastRejection().orElseThrow();
    assertThat(rejection.version()).isEqualTo(7);
    assertThat(rejection.reason()).endsWith("unsigned");
    int polls = manifestRequests.get();
    await("two more polls", LIMIT, () -> manifestRequests.get() >= polls + 2);
    assertThat(bodyRequests).hasValue(0);
    assertThat(version()).isEqualTo(SnapshotApplier.NONE);
  }
}
