package io.ballast.dataplane;

import static io.ballast.dataplane.Snapshots.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.controlplane.ConfServerApi;
import io.ballast.controlplane.SnapshotBuilder;
import io.ballast.controlplane.store.ConfigStore;
import io.ballast.resource.ResourceType;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SigningKeys;
import io.ballast.snapshot.SnapshotSigner;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * A control plane that stops answering while its sockets stay open (a stopped process, a half-open
 * network): the heartbeat gives it up within three intervals, and it is followed again when it
 * answers. The conf server is real; a filter in front of it holds every request, and every answer
 * not yet sent, while the test says it hangs.
 */
class ControlPlaneHangTest {

  private static final Duration LIMIT = Duration.ofSeconds(10);
  private static final Duration HEARTBEAT = Duration.ofSeconds(1);

  @TempDir Path dir;
  private final AtomicBoolean hung = new AtomicBoolean();
  private final AtomicInteger requests = new AtomicInteger();
  private ConfigStore store;
  private SnapshotBuilder builder;
  private DisposableServer server;
  private SnapshotApplier applier;
  private DataPlane dataPlane;
  private ControlPlaneFollower follower;

  @BeforeEach
  void create() {
    store = ConfigStore.open(dir.resolve("store"));
    builder =
        new SnapshotBuilder(
            store,
            dir.resolve("snapshots"),
            new ExportLayout("", Snapshots.GROUP),
            "cp-test",
            () -> Snapshots.LINEAGE,
            new SnapshotSigner(SigningKeys.generate()),
            Duration.ofMinutes(15),
            Clock.systemUTC());
    builder.start(List.of());
    store.put(Snapshots.resource(ResourceType.UPSTREAMS, "u1", Snapshots.UPSTREAM));
    store.put(
        Snapshots.resource(
            ResourceType.ROUTES, "r1", "{\"uri\":\"/ip\",\"host\":\"h\",\"upstream_id\":\"u1\"}"));
    var routes =
        new ConfServerApi(builder, Snapshots.GROUP)
            .routes()
            .filter(
                (request, next) -> {
                  requests.incrementAndGet();
                  return hung.get() ? Mono.never() : next.handle(request).flatMap(this::unlessHung);
                });
    server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .handle(new ReactorHttpHandlerAdapter(RouterFunctions.toHttpHandler(routes)))
            .bindNow();
    LocalCache cache = new LocalCache(dir.resolve("cache"));
    applier = new SnapshotApplier(cache, Clock.systemUTC());
    dataPlane =
        new DataPlane(
            new Deployment.ControlPlane(List.of(), Snapshots.GROUP, Optional.empty()),
            applier,
            cache,
            new Followers(dir.resolve("downloads"), Clock.systemUTC()),
            Clock.systemUTC());
    follower =
        new ControlPlaneFollower(
            List.of(URI.create("http://127.0.0.1:" + server.port())),
            Snapshots.GROUP,
            dataPlane,
            dir.resolve("downloads"),
            Optional.empty(),
            HEARTBEAT,
            SignatureVerifier.notRequired());
  }

  /** An answer the hung CP would never have sent. */
  private Mono<ServerResponse> unlessHung(ServerResponse response) {
    return hung.get() ? Mono.never() : Mono.just(response);
  }

  @AfterEach
  void stop() {
    follower.close();
    synchronized (applier) {
    }
    server.disposeNow(Duration.ofSeconds(1));
    builder.close();
    store.close();
  }

  @Test
  void aHungControlPlaneIsGivenUpWithinThreeHeartbeatsAndFollowedAgainWhenItAnswers() {
    follower.start();
    await("the store's version is served", LIMIT, () -> applier.version() == store.revision());
    await("the CP answers", LIMIT, dataPlane::controlPlaneConnected);

    hung.set(true);
    long hungAt = System.nanoTime();
    await("the hung CP is given up", LIMIT, () -> !dataPlane.controlPlaneConnected());
    Duration detected = Duration.ofNanos(System.nanoTime() - hungAt);

    assertThat(detected).isLessThanOrEqualTo(HEARTBEAT.multipliedBy(3));
    assertThat(dataPlane.controlPlaneError().orElseThrow()).contains("Timeout");
    assertThat(applier.table().match("GET", "h", "/ip")).isPresent();
    // The follower keeps asking (the hung CP accepts every connection).
    int asked = requests.get();
    await("the follower asks again", LIMIT, () -> requests.get() > asked);

    hung.set(false);
    await("the CP is followed again", LIMIT, dataPlane::controlPlaneConnected);
  }
}
