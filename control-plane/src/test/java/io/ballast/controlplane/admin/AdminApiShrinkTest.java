package io.ballast.controlplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.controlplane.store.ConfigStore;
import io.ballast.resource.Cidr;
import io.ballast.resource.Json;
import io.ballast.resource.ResourceType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.HttpMethod;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;

/** {@code ?confirm_shrink=true} on a write, and {@code POST .../ballast/confirm_shrink}. */
class AdminApiShrinkTest {

  private static final String ADMIN_KEY = "admin-key-for-shrink-tests";
  private static final String VIEWER_KEY = "viewer-key-for-shrink-tests";
  private static final String ROUTE =
      "{\"uri\":\"/a\",\"upstream\":{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:8080\":1}}}";

  @TempDir Path dir;
  private ConfigStore store;
  private WebTestClient client;

  @BeforeEach
  void open() {
    store = ConfigStore.open(dir);
    AdminAccess access =
        new AdminAccess(
            List.of(
                new AdminKey("admin", ADMIN_KEY, AdminKey.Role.ADMIN),
                new AdminKey("viewer", VIEWER_KEY, AdminKey.Role.VIEWER)),
            List.of(Cidr.parse("127.0.0.1/32")),
            true);
    client =
        WebTestClient.bindToRouterFunction(AdminApi.routes(store, access))
            .webFilter(AdminApiAccessTest.from("127.0.0.1"))
            .build();
  }

  @AfterEach
  void close() {
    store.close();
  }

  private EntityExchangeResult<byte[]> call(
      HttpMethod method, String path, String key, String body) {
    WebTestClient.RequestBodySpec spec = client.method(method).uri("/apisix/admin" + path);
    spec.header("X-API-KEY", key);
    WebTestClient.RequestHeadersSpec<?> ready =
        body == null ? spec : spec.bodyValue(body.getBytes(StandardCharsets.UTF_8));
    return ready.exchange().expectBody(byte[].class).returnResult();
  }

  private static JsonNode json(EntityExchangeResult<byte[]> result) {
    return Json.mapper().readTree(result.getResponseBody());
  }

  @Test
  void aDeleteWithConfirmShrinkIsStoredAsConfirmedAndOneWithoutIsNot() {
    call(HttpMethod.PUT, "/routes/1", ADMIN_KEY, ROUTE);
    call(HttpMethod.PUT, "/routes/2", ADMIN_KEY, ROUTE.replace("/a", "/b"));

    assertThat(call(HttpMethod.DELETE, "/routes/1", ADMIN_KEY, null).getStatus().value())
        .isEqualTo(200);
    assertThat(store.view().shrinkConfirmedRevision()).isZero();

    EntityExchangeResult<byte[]> confirmed =
        call(HttpMethod.DELETE, "/routes/2?confirm_shrink=true", ADMIN_KEY, null);
    assertThat(confirmed.getStatus().value()).isEqualTo(200);
    assertThat(json(confirmed).get("deleted").asString()).isEqualTo("2");
    assertThat(store.revision()).isEqualTo(4);
    assertThat(store.view().shrinkConfirmedRevision()).isEqualTo(4);
  }

  @Test
  void putAndPatchTakeTheConfirmationToo() {
    assertThat(
            call(HttpMethod.PUT, "/routes/1?confirm_shrink=true", ADMIN_KEY, ROUTE)
                .getStatus()
                .value())
        .isEqualTo(201);
    assertThat(store.view().shrinkConfirmedRevision()).isEqualTo(1);
    assertThat(
            call(
                    HttpMethod.PATCH,
                    "/routes/1?confirm_shrink=true",
                    ADMIN_KEY,
                    "{\"desc\":\"patched\"}")
                .getStatus()
                .value())
        .isEqualTo(200);
    assertThat(store.view().shrinkConfirmedRevision()).isEqualTo(2);
  }

  @Test
  void aConfirmationThatIsNeitherTrueNorFalseIsRefusedAndNothingIsWritten() {
    call(HttpMethod.PUT, "/routes/1", ADMIN_KEY, ROUTE);
    EntityExchangeResult<byte[]> refused =
        call(HttpMethod.DELETE, "/routes/1?confirm_shrink=yes", ADMIN_KEY, null);
    assertThat(refused.getStatus().value()).isEqualTo(400);
    assertThat(json(refused).get("error_msg").asString())
        .isEqualTo("invalid query parameter confirm_shrink: must be true or false, not 'yes'");
    assertThat(store.get(ResourceType.ROUTES, "1")).isPresent();
  }

  @Test
  void confirmingAfterTheFactIsANewRevisionThatChangesNoResource() {
    call(HttpMethod.PUT, "/routes/1", ADMIN_KEY, ROUTE);
    call(HttpMethod.DELETE, "/routes/1", ADMIN_KEY, null);

    EntityExchangeResult<byte[]> answer =
        call(HttpMethod.POST, "/ballast/confirm_shrink", ADMIN_KEY, null);

    assertThat(answer.getStatus().value()).isEqualTo(200);
    assertThat(json(answer).get("shrink_confirmed").asBoolean()).isTrue();
    assertThat(json(answer).get("revision").asLong()).isEqualTo(3);
    assertThat(store.revision()).isEqualTo(3);
    assertThat(store.view().shrinkConfirmedRevision()).isEqualTo(3);
    assertThat(store.view().size()).isZero();
  }

  @Test
  void aViewerCannotConfirm() {
    call(HttpMethod.PUT, "/routes/1", ADMIN_KEY, ROUTE);

    EntityExchangeResult<byte[]> refused =
        call(HttpMethod.POST, "/ballast/confirm_shrink", VIEWER_KEY, null);
    assertThat(refused.getStatus().value()).isEqualTo(403);
    assertThat(json(refused).get("description").asString())
        .isEqualTo("invalid method for role viewer");
    EntityExchangeResult<byte[]> viaParameter =
        call(HttpMethod.DELETE, "/routes/1?confirm_shrink=true", VIEWER_KEY, null);
    assertThat(viaParameter.getStatus().value()).isEqualTo(403);

    assertThat(store.revision()).isEqualTo(1);
    assertThat(store.view().shrinkConfirmedRevision()).isZero();
  }

  @Test
  void theConfirmationPathTakesOnlyPost() {
    assertThat(call(HttpMethod.GET, "/ballast/confirm_shrink", ADMIN_KEY, null).getStatus().value())
        .isEqualTo(404);
  }
}
