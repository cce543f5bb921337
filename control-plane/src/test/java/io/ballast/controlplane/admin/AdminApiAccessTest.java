package io.ballast.controlplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.controlplane.store.ConfigStore;
import io.ballast.resource.Cidr;
import io.ballast.resource.Json;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.server.WebFilter;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import tools.jackson.databind.JsonNode;

/**
 * Who may use the Admin API: {@code allow_admin}, the keys' roles and {@code admin_key_required}.
 */
class AdminApiAccessTest {

  private static final String ADMIN_KEY = "admin-key-for-access-tests";
  private static final String VIEWER_KEY = "viewer-key-for-access-tests";
  private static final String UPSTREAM =
      "{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:8080\":1}}";
  private static final List<AdminKey> KEYS =
      List.of(
          new AdminKey("admin", ADMIN_KEY, AdminKey.Role.ADMIN),
          new AdminKey("viewer", VIEWER_KEY, AdminKey.Role.VIEWER));
  private static final List<Cidr> LOCAL = List.of(Cidr.parse("127.0.0.0/24"));

  @TempDir Path dir;
  private ConfigStore store;

  @BeforeEach
  void open() {
    store = ConfigStore.open(dir);
  }

  @AfterEach
  void close() {
    store.close();
  }

  /** Makes every request come from {@code ip}, as the server would see its connection. */
  static WebFilter from(String ip) {
    InetSocketAddress address = new InetSocketAddress(ip, 40000);
    return (exchange, chain) ->
        chain.filter(exchange.mutate().request(request -> request.remoteAddress(address)).build());
  }

  private WebTestClient client(AdminAccess access, String clientIp) {
    return WebTestClient.bindToRouterFunction(AdminApi.routes(store, access))
        .webFilter(from(clientIp))
        .build();
  }

  private static EntityExchangeResult<byte[]> call(
      WebTestClient client, HttpMethod method, String path, String key, String body) {
    WebTestClient.RequestBodySpec spec = client.method(method).uri("/apisix/admin" + path);
    if (key != null) {
      spec.header("X-API-KEY", key);
    }
    WebTestClient.RequestHeadersSpec<?> ready =
        body == null ? spec : spec.bodyValue(body.getBytes(StandardCharsets.UTF_8));
    return ready.exchange().expectBody(byte[].class).returnResult();
  }

  private static JsonNode json(EntityExchangeResult<byte[]> result) {
    return Json.mapper().readTree(result.getResponseBody());
  }

  @Test
  void aViewerReadsButEveryWriteIs403WithApisixsBodyAndStoresNothing() {
    WebTestClient client = client(new AdminAccess(KEYS, LOCAL, true), "127.0.0.1");
    assertThat(
            call(client, HttpMethod.PUT, "/upstreams/1", ADMIN_KEY, UPSTREAM).getStatus().value())
        .isEqualTo(201);
    long revision = store.revision();

    assertThat(call(client, HttpMethod.GET, "/upstreams/1", VIEWER_KEY, null).getStatus().value())
        .isEqualTo(200);
    assertThat(call(client, HttpMethod.GET, "/upstreams", VIEWER_KEY, null).getStatus().value())
        .isEqualTo(200);

    for (HttpMethod write :
        List.of(HttpMethod.PUT, HttpMethod.POST, HttpMethod.PATCH, HttpMethod.DELETE)) {
      String path = write == HttpMethod.POST ? "/upstreams" : "/upstreams/1";
      String body = write == HttpMethod.DELETE ? null : UPSTREAM;
      EntityExchangeResult<byte[]> refused = call(client, write, path, VIEWER_KEY, body);
      assertThat(refused.getStatus().value()).as(write.name()).isEqualTo(403);
      assertThat(refused.getResponseHeaders().getContentType())
          .isEqualTo(MediaType.APPLICATION_JSON);
      JsonNode error = json(refused);
      assertThat(error.get("error_msg").asString()).isEqualTo("failed to check token");
      assertThat(error.get("description").asString()).isEqualTo("invalid method for role viewer");
    }
    assertThat(store.revision()).isEqualTo(revision);
    assertThat(store.get(io.ballast.resource.ResourceType.UPSTREAMS, "1")).isPresent();
  }

  @Test
  void aClientOutsideAllowAdminIs403BeforeAnythingElseEvenWithTheAdminKey() {
    WebTestClient client = client(new AdminAccess(KEYS, LOCAL, true), "10.1.2.3");
    for (String key : new String[] {ADMIN_KEY, null}) {
      EntityExchangeResult<byte[]> refused =
          call(client, HttpMethod.PUT, "/upstreams/1", key, UPSTREAM);
      assertThat(refused.getStatus().value()).isEqualTo(403);
      assertThat(
              refused.getResponseHeaders().getContentType().isCompatibleWith(MediaType.TEXT_HTML))
          .isTrue();
      assertThat(new String(refused.getResponseBody(), StandardCharsets.UTF_8))
          .contains("<title>403 Forbidden</title>");
    }
    assertThat(call(client, HttpMethod.GET, "/no-such-thing", ADMIN_KEY, null).getStatus().value())
        .as("not even whether a path exists")
        .isEqualTo(403);
    assertThat(store.revision()).isZero();
  }

  @Test
  void anIpv4AllowListDoesNotAdmitIpv6ClientsButAdmitsIpv4MappedOnes() {
    AdminAccess access = new AdminAccess(KEYS, LOCAL, true);
    assertThat(
            call(client(access, "::1"), HttpMethod.GET, "/upstreams", ADMIN_KEY, null)
                .getStatus()
                .value())
        .isEqualTo(403);
    assertThat(
            call(client(access, "::ffff:127.0.0.1"), HttpMethod.GET, "/upstreams", ADMIN_KEY, null)
                .getStatus()
                .value())
        .isEqualTo(200);

    AdminAccess ipv6 = new AdminAccess(KEYS, List.of(Cidr.parse("::1/128")), true);
    assertThat(
            call(client(ipv6, "::1"), HttpMethod.GET, "/upstreams", ADMIN_KEY, null)
                .getStatus()
                .value())
        .isEqualTo(200);
  }

  @Test
  void anEmptyAllowListServesNobodyAsInApisix() {
    WebTestClient client = client(new AdminAccess(KEYS, List.of(), true), "127.0.0.1");
    assertThat(call(client, HttpMethod.GET, "/upstreams", ADMIN_KEY, null).getStatus().value())
        .isEqualTo(403);
  }

  @Test
  void withoutRequiredKeysEveryAllowedClientIsAnAdmin() {
    WebTestClient client = client(new AdminAccess(List.of(), LOCAL, false), "127.0.0.1");
    assertThat(call(client, HttpMethod.PUT, "/upstreams/1", null, UPSTREAM).getStatus().value())
        .isEqualTo(201);
    assertThat(call(client, HttpMethod.GET, "/upstreams/1", "anything", null).getStatus().value())
        .isEqualTo(200);
    WebTestClient outside = client(new AdminAccess(List.of(), LOCAL, false), "192.0.2.7");
    assertThat(call(outside, HttpMethod.GET, "/upstreams/1", null, null).getStatus().value())
        .isEqualTo(403);
  }

  /**
   * On a real listener the address is the connection's: a client on 127.0.0.1 outside the list
   * stays outside whatever X-Forwarded-For it sends, and inside it is served.
   */
  @Test
  void aRealListenerChecksTheConnectionsAddressNotForwardedHeaders() throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    DisposableServer refusing =
        serve(new AdminAccess(KEYS, List.of(Cidr.parse("10.0.0.0/8")), true));
    try {
      HttpResponse<String> answer =
          http.send(
              request(refusing)
                  .header("X-Forwarded-For", "10.0.0.1")
                  .header("Forwarded", "for=10.0.0.1")
                  .header("X-Real-IP", "10.0.0.1")
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(answer.statusCode()).isEqualTo(403);
      assertThat(answer.body()).contains("403 Forbidden");
    } finally {
      refusing.disposeNow();
    }

    DisposableServer serving = serve(new AdminAccess(KEYS, List.of(Cidr.parse("127.0.0.1")), true));
    try {
      HttpResponse<String> answer =
          http.send(request(serving).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(answer.statusCode()).isEqualTo(200);
    } finally {
      serving.disposeNow();
    }
  }

  private DisposableServer serve(AdminAccess access) {
    return HttpServer.create()
        .host("127.0.0.1")
        .port(0)
        .handle(
            new ReactorHttpHandlerAdapter(
                RouterFunctions.toHttpHandler(AdminApi.routes(store, access))))
        .bindNow(Duration.ofSeconds(10));
  }

  private static HttpRequest.Builder request(DisposableServer server) {
    return HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + server.port() + "/apisix/admin/upstreams"))
        .header("X-API-KEY", ADMIN_KEY)
        .timeout(Duration.ofSeconds(10))
        .GET();
  }
}
