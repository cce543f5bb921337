package io.ballast.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.controlplane.store.ConfigStore;
import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import io.ballast.snapshot.ConfServerProtocol;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotManifest;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

class ConfServerApiTest {

  private static final String RESOURCES = ConfServerProtocol.PATH + "/resources";

  @TempDir Path dir;
  private ConfigStore store;
  private SnapshotBuilder builder;
  private WebTestClient client;
  private Disposable delayedWrite;

  @BeforeEach
  void start() throws Exception {
    store = ConfigStore.open(dir.resolve("store"));
    builder =
        new SnapshotBuilder(
            store, dir.resolve("snapshots"), "", "default", "cp-test", Clock.systemUTC());
    builder.start(List.of());
    awaitVersion(0);
    client =
        WebTestClient.bindToRouterFunction(new ConfServerApi(builder, "default").routes())
            .configureClient()
            .responseTimeout(Duration.ofSeconds(10))
            .build();
  }

  @AfterEach
  void stop() throws Exception {
    if (delayedWrite != null) {
      delayedWrite.dispose();
    }
    builder.close();
    store.close();
  }

  private void write(String upstreamId) {
    store.put(
        Resource.parse(
            ResourceType.UPSTREAMS,
            upstreamId,
            Json.mapper().readTree("{\"nodes\":{\"127.0.0.1:1980\":1}}")));
  }

  private void awaitVersion(long version) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (builder.current(SnapshotKind.RESOURCES).map(s -> s.version()).orElse(-1L) != version) {
      assertThat(System.nanoTime()).as("built version %d in time", version).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  private EntityExchangeResult<byte[]> get(String uri, String ifNoneMatch) {
    var spec = client.get().uri(uri);
    if (ifNoneMatch != null) {
      spec.header("If-None-Match", ifNoneMatch);
    }
    return spec.exchange().expectBody(byte[].class).returnResult();
  }

  @Test
  void answersTheManifestWithItsVersionAsEtag() throws Exception {
    write("u1");
    awaitVersion(1);

    EntityExchangeResult<byte[]> answer = get(RESOURCES, null);

    assertThat(answer.getStatus().value()).isEqualTo(200);
    assertThat(answer.getResponseHeaders().getETag()).isEqualTo("\"1\"");
    SnapshotManifest manifest = SnapshotManifest.fromJson(answer.getResponseBody());
    assertThat(manifest.version()).isEqualTo(1);
    assertThat(manifest.kind()).isEqualTo(SnapshotKind.RESOURCES);
    assertThat(manifest.counts()).containsEntry("upstreams", 1L);
  }

  @Test
  void answersNotModifiedForTheCurrentEtagWithoutWait() throws Exception {
    EntityExchangeResult<byte[]> answer = get(RESOURCES + "?wait=0s", "\"0\"");

    assertThat(answer.getStatus().value()).isEqualTo(304);
    assertThat(answer.getResponseHeaders().getETag()).isEqualTo("\"0\"");
  }

  @Test
  void aVersionAheadOfTheCurrentOneIsNotModified() throws Exception {
    write("u1");
    awaitVersion(1);

    EntityExchangeResult<byte[]> answer = get(RESOURCES + "?wait=0s", "\"5\"");

    assertThat(answer.getStatus().value()).isEqualTo(304);
  }

  @Test
  void aForeignEtagGetsTheCurrentManifest() throws Exception {
    EntityExchangeResult<byte[]> answer = get(RESOURCES + "?wait=0s", "\"abc\"");

    assertThat(answer.getStatus().value()).isEqualTo(200);
    assertThat(answer.getResponseHeaders().getETag()).isEqualTo("\"0\"");
  }

  @Test
  void aLongPollAnswersAsSoonAsTheStoreChanges() throws Exception {
    delayedWrite = Mono.delay(Duration.ofMillis(300)).subscribe(tick -> write("u1"));
    long started = System.nanoTime();

    EntityExchangeResult<byte[]> answer = get(RESOURCES + "?wait=5s", "\"0\"");

    assertThat(answer.getStatus().value()).isEqualTo(200);
    assertThat(answer.getResponseHeaders().getETag()).isEqualTo("\"1\"");
    assertThat(SnapshotManifest.fromJson(answer.getResponseBody()).version()).isEqualTo(1);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void servesTheBodyTheManifestNames() throws Exception {
    write("u1");
    awaitVersion(1);
    SnapshotManifest manifest = SnapshotManifest.fromJson(get(RESOURCES, null).getResponseBody());

    EntityExchangeResult<byte[]> body = get(RESOURCES + "/1", null);

    assertThat(body.getStatus().value()).isEqualTo(200);
    assertThat(body.getResponseBody()).hasSize((int) manifest.bodySize());
    String sha256 =
        HexFormat.of()
            .formatHex(MessageDigest.getInstance("SHA-256").digest(body.getResponseBody()));
    assertThat(sha256).isEqualTo(manifest.bodySha256());
  }

  @Test
  void anOldVersionIsNotFound() throws Exception {
    write("u1");
    awaitVersion(1);

    EntityExchangeResult<byte[]> answer = get(RESOURCES + "/0", null);

    assertThat(answer.getStatus().value()).isEqualTo(404);
    assertThat(answer.getResponseHeaders().getContentType()).hasToString("application/json");
    assertThat(Json.mapper().readTree(answer.getResponseBody()).get("error_msg").asString())
        .contains("resources snapshot 0 is not the current one");
  }

  @Test
  void anUnknownKindIsNotFound() throws Exception {
    assertThat(get(ConfServerProtocol.PATH + "/plugins", null).getStatus().value()).isEqualTo(404);
    assertThat(get(ConfServerProtocol.PATH + "/plugins/1", null).getStatus().value())
        .isEqualTo(404);
  }

  @Test
  void aBadWaitIsABadRequest() throws Exception {
    EntityExchangeResult<byte[]> garbage = get(RESOURCES + "?wait=soon", "\"0\"");
    assertThat(garbage.getStatus().value()).isEqualTo(400);
    assertThat(Json.mapper().readTree(garbage.getResponseBody()).has("error_msg")).isTrue();

    assertThat(get(RESOURCES + "?wait=61s", "\"0\"").getStatus().value()).isEqualTo(400);
  }

  @Test
  void servesTheInstanceSnapshotToo() throws Exception {
    EntityExchangeResult<byte[]> answer = get(ConfServerProtocol.PATH + "/instance", null);

    assertThat(answer.getStatus().value()).isEqualTo(200);
    assertThat(SnapshotManifest.fromJson(answer.getResponseBody()).kind())
        .isEqualTo(SnapshotKind.INSTANCE);
  }
}
