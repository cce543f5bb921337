package io.ballast.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.controlplane.store.ConfigStore;
import io.ballast.resource.Json;
import io.ballast.snapshot.ConfServerProtocol;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.snapshot.SnapshotSigner;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
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

  private static final String EXPORT = ConfServerProtocol.EXPORT_PATH;
  private static final Instant NOW = Instant.parse("2026-12-05T09:00:00Z");

  @TempDir Path dir;
  private final SnapshotSigner signer = TestBuilders.signer();
  private ConfigStore store;
  private SnapshotBuilder builder;
  private WebTestClient client;
  private Disposable delayedWrite;

  @BeforeEach
  void start() throws Exception {
    store = ConfigStore.open(dir.resolve("store"));
    builder = TestBuilders.builder(store, dir.resolve("snapshots"), signer);
    builder.start(List.of());
    TestBuilders.awaitVersion(builder, 0);
    client =
        WebTestClient.bindToRouterFunction(
                new ConfServerApi(
                        builder, "default", chain -> true, Clock.fixed(NOW, ZoneOffset.UTC))
                    .routes())
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

  private EntityExchangeResult<byte[]> get(String uri, String ifNoneMatch) {
    var spec = client.get().uri(uri);
    if (ifNoneMatch != null) {
      spec.header("If-None-Match", ifNoneMatch);
    }
    return spec.exchange().expectBody(byte[].class).returnResult();
  }

  private ExportManifest verified(byte[] json) {
    return SignatureVerifier.trusting(List.of(signer.publicKey())).verify(json).manifest();
  }

  @Test
  void answersTheSignedManifestWithItsVersionLineageAndDate() throws Exception {
    TestBuilders.writeUpstream(store, "u1");
    TestBuilders.awaitVersion(builder, 1);

    EntityExchangeResult<byte[]> answer = get(EXPORT, null);

    assertThat(answer.getStatus().value()).isEqualTo(200);
    assertThat(answer.getResponseHeaders().getETag()).isEqualTo("\"1\"");
    assertThat(answer.getResponseHeaders().getFirst(ConfServerProtocol.LINEAGE_HEADER))
        .isEqualTo(TestBuilders.LINEAGE);
    assertThat(answer.getResponseHeaders().get("Date")).hasSize(1);
    assertThat(answer.getResponseHeaders().getDate()).isEqualTo(NOW.toEpochMilli());
    assertThat(answer.getResponseBody()).isEqualTo(builder.current().orElseThrow().signed().json());
    ExportManifest manifest = verified(answer.getResponseBody());
    assertThat(manifest.version()).isEqualTo(1);
    assertThat(manifest.part(SnapshotKind.RESOURCES).counts()).containsEntry("upstreams", 1L);
  }

  @Test
  void answersNotModifiedForTheCurrentEtagWithLineageAndDate() throws Exception {
    EntityExchangeResult<byte[]> answer = get(EXPORT + "?wait=0s", "\"0\"");

    assertThat(answer.getStatus().value()).isEqualTo(304);
    assertThat(answer.getResponseHeaders().getETag()).isEqualTo("\"0\"");
    assertThat(answer.getResponseHeaders().getFirst(ConfServerProtocol.LINEAGE_HEADER))
        .isEqualTo(TestBuilders.LINEAGE);
    assertThat(answer.getResponseHeaders().getDate()).isEqualTo(NOW.toEpochMilli());
  }

  @Test
  void aVersionAheadOfTheCurrentOneIsNotModifiedWithTheCpsVersion() throws Exception {
    TestBuilders.writeUpstream(store, "u1");
    TestBuilders.awaitVersion(builder, 1);

    EntityExchangeResult<byte[]> answer = get(EXPORT + "?wait=0s", "\"5\"");

    assertThat(answer.getStatus().value()).isEqualTo(304);
    assertThat(answer.getResponseHeaders().getETag()).isEqualTo("\"1\"");
  }

  @Test
  void aForeignEtagGetsTheCurrentManifest() throws Exception {
    EntityExchangeResult<byte[]> answer = get(EXPORT + "?wait=0s", "\"abc\"");

    assertThat(answer.getStatus().value()).isEqualTo(200);
    assertThat(answer.getResponseHeaders().getETag()).isEqualTo("\"0\"");
  }

  @Test
  void aLongPollAnswersAsSoonAsTheStoreChanges() throws Exception {
    delayedWrite =
        Mono.delay(Duration.ofMillis(300))
            .subscribe(tick -> TestBuilders.writeUpstream(store, "u1"));
    long started = System.nanoTime();

    EntityExchangeResult<byte[]> answer = get(EXPORT + "?wait=5s", "\"0\"");

    assertThat(answer.getStatus().value()).isEqualTo(200);
    assertThat(answer.getResponseHeaders().getETag()).isEqualTo("\"1\"");
    assertThat(verified(answer.getResponseBody()).version()).isEqualTo(1);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void servesEachPartTheManifestNames() throws Exception {
    TestBuilders.writeUpstream(store, "u1");
    TestBuilders.awaitVersion(builder, 1);
    ExportManifest manifest = verified(get(EXPORT, null).getResponseBody());

    for (SnapshotKind kind : SnapshotKind.values()) {
      EntityExchangeResult<byte[]> body = get(ConfServerProtocol.partPath(1, kind), null);

      SnapshotManifest part = manifest.part(kind);
      assertThat(body.getStatus().value()).isEqualTo(200);
      assertThat(body.getResponseBody()).hasSize((int) part.bodySize());
      String sha256 =
          HexFormat.of()
              .formatHex(MessageDigest.getInstance("SHA-256").digest(body.getResponseBody()));
      assertThat(sha256).isEqualTo(part.bodySha256());
    }
  }

  @Test
  void aRecentExportIsStillServedAndAnOldOneIsNotFound() throws Exception {
    for (int i = 1; i <= 4; i++) {
      TestBuilders.writeUpstream(store, "u" + i);
      TestBuilders.awaitVersion(builder, i);
    }

    assertThat(
            get(ConfServerProtocol.partPath(3, SnapshotKind.RESOURCES), null).getStatus().value())
        .isEqualTo(200);
    EntityExchangeResult<byte[]> answer =
        get(ConfServerProtocol.partPath(0, SnapshotKind.RESOURCES), null);
    assertThat(answer.getStatus().value()).isEqualTo(404);
    assertThat(answer.getResponseHeaders().getContentType()).hasToString("application/json");
    assertThat(Json.mapper().readTree(answer.getResponseBody()).get("error_msg").asString())
        .contains("export 0 is no longer kept");
  }

  @Test
  void anUnknownKindOrVersionIsNotFound() throws Exception {
    assertThat(get(EXPORT + "/0/plugins", null).getStatus().value()).isEqualTo(404);
    assertThat(get(EXPORT + "/zero/resources", null).getStatus().value()).isEqualTo(404);
  }

  @Test
  void aBadWaitIsABadRequest() throws Exception {
    EntityExchangeResult<byte[]> garbage = get(EXPORT + "?wait=soon", "\"0\"");
    assertThat(garbage.getStatus().value()).isEqualTo(400);
    assertThat(Json.mapper().readTree(garbage.getResponseBody()).has("error_msg")).isTrue();

    assertThat(get(EXPORT + "?wait=61s", "\"0\"").getStatus().value()).isEqualTo(400);
  }

  @Test
  void theVersionOnePathsAreGone() throws Exception {
    assertThat(get("/ballast/v1/snapshots/resources", null).getStatus().value()).isEqualTo(404);
  }
}
