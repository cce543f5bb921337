package io.ballast.controlplane.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.controlplane.store.ConfigStore;
import io.ballast.resource.Cidr;
import io.ballast.resource.Json;
import io.ballast.resource.ResourceType;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;

class AdminApiTest {

  private static final String KEY = "edd1c9f034335f136f87ad84b625c8f1";
  private static final String UPSTREAM =
      "{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:8080\":1}}";

  @TempDir Path dir;
  private ConfigStore store;
  private WebTestClient client;

  /** Status, headers and parsed JSON body of one exchange. */
  private record Answer(int status, HttpHeaders headers, JsonNode body) {
    String error() {
      return body.get("error_msg").asString();
    }
  }

  @BeforeEach
  void start() {
    store = ConfigStore.open(dir);
    AdminAccess access =
        new AdminAccess(
            List.of(
                new AdminKey("admin", KEY, AdminKey.Role.ADMIN),
                new AdminKey("other", "other", AdminKey.Role.ADMIN)),
            List.of(Cidr.parse("127.0.0.0/24")),
            true);
    client =
        WebTestClient.bindToRouterFunction(AdminApi.routes(store, access))
            .webFilter(AdminApiAccessTest.from("127.0.0.1"))
            .build();
  }

  @AfterEach
  void stop() {
    store.close();
  }

  private Answer call(HttpMethod method, String path, String body) {
    return call(method, path, body, KEY);
  }

  private Answer call(HttpMethod method, String path, String body, String key) {
    WebTestClient.RequestBodySpec spec = client.method(method).uri("/apisix/admin" + path);
    if (key != null) {
      spec.header("X-API-KEY", key);
    }
    WebTestClient.RequestHeadersSpec<?> ready =
        body == null ? spec : spec.bodyValue(body.getBytes(StandardCharsets.UTF_8));
    EntityExchangeResult<byte[]> result = ready.exchange().expectBody(byte[].class).returnResult();
    HttpHeaders headers = result.getResponseHeaders();
    assertThat(headers.getContentType()).hasToString("application/json");
    JsonNode json = Json.mapper().readTree(result.getResponseBody());
    return new Answer(result.getStatus().value(), headers, json);
  }

  @Test
  void putCreatesWith201AndReplacesWith200() {
    Answer created = call(HttpMethod.PUT, "/upstreams/1", UPSTREAM);
    assertThat(created.status()).isEqualTo(201);
    assertThat(created.body().get("key").asString()).isEqualTo("/apisix/upstreams/1");
    assertThat(created.body().get("value").get("id").asString()).isEqualTo("1");
    assertThat(created.body().get("value").get("type").asString()).isEqualTo("roundrobin");
    assertThat(created.body().get("value").has("create_time")).isTrue();
    assertThat(created.body().get("createdIndex").asLong()).isEqualTo(1);
    assertThat(created.body().get("modifiedIndex").asLong()).isEqualTo(1);

    Answer replaced = call(HttpMethod.PUT, "/upstreams/1", UPSTREAM);
    assertThat(replaced.status()).isEqualTo(200);
    assertThat(replaced.body().get("createdIndex").asLong()).isEqualTo(1);
    assertThat(replaced.body().get("modifiedIndex").asLong()).isEqualTo(2);
    assertThat(store.revision()).isEqualTo(2);
  }

  @Test
  void putWithTheIdInTheBody() {
    Answer answer =
        call(
            HttpMethod.PUT,
            "/routes",
            "{\"id\":\"r1\",\"uri\":\"/a\",\"upstream\":" + UPSTREAM + "}");
    assertThat(answer.status()).isEqualTo(201);
    assertThat(answer.body().get("key").asString()).isEqualTo("/apisix/routes/r1");
    assertThat(store.get(ResourceType.ROUTES, "r1")).isPresent();
  }

  @Test
  void getOneAndList() {
    assertThat(call(HttpMethod.GET, "/routes", null).body().toString())
        .isEqualTo("{\"list\":[],\"total\":0}");
    call(HttpMethod.PUT, "/upstreams/2", UPSTREAM);
    call(HttpMethod.PUT, "/upstreams/1", UPSTREAM);

    Answer one = call(HttpMethod.GET, "/upstreams/2", null);
    assertThat(one.status()).isEqualTo(200);
    assertThat(one.body().get("key").asString()).isEqualTo("/apisix/upstreams/2");
    assertThat(one.body().get("value").get("nodes").get("127.0.0.1:8080").asInt()).isEqualTo(1);
    assertThat(one.body().get("createdIndex").asLong()).isEqualTo(1);
    assertThat(one.body().get("modifiedIndex").asLong()).isEqualTo(1);

    Answer list = call(HttpMethod.GET, "/upstreams", null);
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.body().get("total").asInt()).isEqualTo(2);
    List<String> keys = new ArrayList<>();
    list.body().get("list").forEach(item -> keys.add(item.get("key").asString()));
    assertThat(keys).containsExactly("/apisix/upstreams/1", "/apisix/upstreams/2");
    assertThat(list.body().get("list").get(0).get("modifiedIndex").asLong()).isEqualTo(2);
  }

  @Test
  void deleteThen404() {
    call(HttpMethod.PUT, "/routes/1", "{\"uri\":\"/a\",\"upstream\":" + UPSTREAM + "}");
    Answer deleted = call(HttpMethod.DELETE, "/routes/1", null);
    assertThat(deleted.status()).isEqualTo(200);
    assertThat(deleted.body().toString())
        .isEqualTo("{\"deleted\":\"1\",\"key\":\"/apisix/routes/1\"}");

    Answer missing = call(HttpMethod.GET, "/routes/1", null);
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.error()).isEqualTo("route '1' not found");
    assertThat(call(HttpMethod.DELETE, "/routes/1", null).status()).isEqualTo(404);
  }

  @Test
  void consumersArePutByUsername() {
    Answer created = call(HttpMethod.PUT, "/consumers", "{\"username\":\"jack\",\"plugins\":{}}");
    assertThat(created.status()).isEqualTo(201);
    assertThat(created.body().get("key").asString()).isEqualTo("/apisix/consumers/jack");
    assertThat(call(HttpMethod.GET, "/consumers/jack", null).status()).isEqualTo(200);

    Answer post = call(HttpMethod.POST, "/consumers", "{\"username\":\"jill\"}");
    assertThat(post.status()).isEqualTo(405);
    assertThat(post.headers().getFirst(HttpHeaders.ALLOW)).isEqualTo("GET, PUT");
  }

  @Test
  void postGeneratesIncreasingTwentyDigitIds() {
    Answer first = call(HttpMethod.POST, "/upstreams", UPSTREAM);
    Answer second = call(HttpMethod.POST, "/upstreams", UPSTREAM);
    assertThat(first.status()).isEqualTo(201);
    assertThat(second.status()).isEqualTo(201);
    String firstId = first.body().get("value").get("id").asString();
    String secondId = second.body().get("value").get("id").asString();
    assertThat(firstId).matches("\\d{20}");
    assertThat(secondId).matches("\\d{20}").isGreaterThan(firstId);
    assertThat(first.body().get("key").asString()).isEqualTo("/apisix/upstreams/" + firstId);
    assertThat(call(HttpMethod.GET, "/upstreams/" + secondId, null).status()).isEqualTo(200);

    Answer withId = call(HttpMethod.POST, "/upstreams", "{\"id\":\"9\"," + UPSTREAM.substring(1));
    assertThat(withId.status()).isEqualTo(400);
    assertThat(withId.error()).contains("'id'");
    assertThat(store.revision()).isEqualTo(2);
  }

  @Test
  void missingOrWrongKeyIs401AndStoresNothing() {
    Answer none = call(HttpMethod.PUT, "/upstreams/1", UPSTREAM, null);
    assertThat(none.status()).isEqualTo(401);
    assertThat(none.error()).isEqualTo("failed to check token");
    assertThat(none.body().get("description").asString()).isEqualTo("missing apikey");
    Answer wrong = call(HttpMethod.PUT, "/upstreams/1", UPSTREAM, "wrong");
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(wrong.body().get("description").asString()).isEqualTo("wrong apikey");
    assertThat(call(HttpMethod.GET, "/upstreams", null, KEY + "x").status()).isEqualTo(401);
    assertThat(call(HttpMethod.GET, "/nothing-here", null, null).status())
        .as("authentication comes before routing")
        .isEqualTo(401);
    assertThat(store.revision()).isZero();

    assertThat(call(HttpMethod.GET, "/upstreams", null, "other").status()).isEqualTo(200);
    client.get().uri("/apisix/admin/upstreams?api_key=" + KEY).exchange().expectStatus().isOk();
  }

  @Test
  void badJsonIs400SayingWhere() {
    Answer answer = call(HttpMethod.PUT, "/routes/1", "{\"uri\": \"/a\",\n \"methods\": [GET]}");
    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.error()).startsWith("invalid request body").contains("line 2, column");
    assertThat(call(HttpMethod.PUT, "/routes/1", "").error()).contains("empty");
    assertThat(call(HttpMethod.PUT, "/routes/1", "[1]").error()).contains("JSON object");
    assertThat(call(HttpMethod.PUT, "/routes/1", "{\"uri\":\"/a\",\"uri\":\"/b\"}").status())
        .as("duplicate keys are refused")
        .isEqualTo(400);
    assertThat(store.revision()).isZero();
  }

  @Test
  void invalidResourceIs400NamingTheFieldAndStoresNothing() {
    Answer answer = call(HttpMethod.PUT, "/routes/1", "{\"upstream\":" + UPSTREAM + "}");
    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.error()).contains("route '1'").contains("uri");

    Answer wrongId = call(HttpMethod.PUT, "/upstreams/1", "{\"id\":\"2\"," + UPSTREAM.substring(1));
    assertThat(wrongId.status()).isEqualTo(400);
    assertThat(wrongId.error()).contains(": id: ");

    assertThat(call(HttpMethod.PUT, "/routes", "{\"uri\":\"/a\"}").status()).isEqualTo(400);
    assertThat(store.revision()).isZero();
    assertThat(store.view().size()).isZero();
  }

  @Test
  void anUnknownFieldIs400NamingItAsApisixRefusesItAndNothingIsStored() {
    Answer method =
        call(
            HttpMethod.PUT,
            "/routes/1",
            "{\"uri\":\"/a\",\"method\":[\"POST\"],\"upstream\":" + UPSTREAM + "}");
    assertThat(method.status()).isEqualTo(400);
    assertThat(method.error())
        .isEqualTo("route '1': unknown field 'method'; did you mean 'methods'?");

    Answer typo =
        call(HttpMethod.POST, "/upstreams", "{\"tpye\":\"chash\"," + UPSTREAM.substring(1));
    assertThat(typo.status()).isEqualTo(400);
    assertThat(typo.error()).endsWith(": unknown field 'tpye'; did you mean 'type'?");

    Answer group =
        call(HttpMethod.PUT, "/consumers", "{\"username\":\"jack\",\"group_id\":\"gold\"}");
    assertThat(group.status()).isEqualTo(400);
    assertThat(group.error()).startsWith("consumer 'jack': group_id: is not supported by Ballast");

    assertThat(store.revision()).isZero();
    assertThat(store.view().size()).isZero();

    // A PATCH is checked as the merged resource it would store.
    assertThat(call(HttpMethod.PUT, "/upstreams/u", UPSTREAM).status()).isEqualTo(201);
    Answer patched = call(HttpMethod.PATCH, "/upstreams/u", "{\"timeout\":{\"raed\":1}}");
    assertThat(patched.status()).isEqualTo(400);
    assertThat(patched.error()).contains("unknown field 'timeout.raed'");
    assertThat(store.revision()).isEqualTo(1);
  }

  @Test
  void pluginsAreCompiledAsADataPlaneWouldAndRefusalsNameThePluginAndField() {
    Answer unknown =
        call(
            HttpMethod.PUT,
            "/routes/1",
            "{\"uri\":\"/a\",\"plugins\":{\"no-such\":{}},\"upstream\":" + UPSTREAM + "}");
    assertThat(unknown.status()).isEqualTo(400);
    assertThat(unknown.error())
        .startsWith("route '1': plugins.no-such: unknown plugin 'no-such'; Ballast runs ")
        .contains("key-auth");

    Answer badField =
        call(
            HttpMethod.PUT,
            "/global_rules/g",
            "{\"plugins\":{\"request-id\":{\"header_name\":\"X-Id\",\"colour\":1}}}");
    assertThat(badField.status()).isEqualTo(400);
    assertThat(badField.error()).startsWith("global_rule 'g': plugins.request-id.colour: ");

    String jack = "{\"plugins\":{\"key-auth\":{\"key\":\"secret-key-1\"}}}";
    assertThat(call(HttpMethod.PUT, "/consumers/jack", jack).status()).isEqualTo(201);
    Answer sameKey = call(HttpMethod.PUT, "/consumers/jill", jack);
    assertThat(sameKey.status()).isEqualTo(400);
    assertThat(sameKey.error()).contains("jack").contains("jill").doesNotContain("secret-key-1");

    Answer metadata = call(HttpMethod.PUT, "/plugin_metadata/no-such", "{}");
    assertThat(metadata.status()).isEqualTo(400);
    assertThat(metadata.error()).contains("unknown plugin 'no-such'");
    assertThat(store.view().size()).isEqualTo(1);
  }

  @Test
  void referenceChecksAre400() {
    Answer missing = call(HttpMethod.PUT, "/routes/1", "{\"uri\":\"/a\",\"upstream_id\":\"u9\"}");
    assertThat(missing.status()).isEqualTo(400);
    assertThat(missing.error()).contains("upstream_id").contains("u9");

    call(HttpMethod.PUT, "/upstreams/u9", UPSTREAM);
    String route = "{\"uri\":\"/a\",\"upstream_id\":\"u9\"}";
    assertThat(call(HttpMethod.PUT, "/routes/1", route).status()).isEqualTo(201);
    Answer inUse = call(HttpMethod.DELETE, "/upstreams/u9", null);
    assertThat(inUse.status()).isEqualTo(400);
    assertThat(inUse.error()).contains("route '1'");
    assertThat(store.get(ResourceType.UPSTREAMS, "u9")).isPresent();
  }

  @Test
  void patchMergesIntoTheStoredValue() {
    call(
        HttpMethod.PUT,
        "/routes/1",
        "{\"uri\":\"/a\",\"desc\":\"old\",\"upstream\":" + UPSTREAM + "}");
    Answer patched =
        call(
            HttpMethod.PATCH,
            "/routes/1",
            "{\"name\":\"n\",\"desc\":null,\"upstream\":{\"nodes\":{\"10.0.0.1:80\":2}}}");
    assertThat(patched.status()).isEqualTo(200);
    JsonNode value = patched.body().get("value");
    assertThat(value.get("name").asString()).isEqualTo("n");
    assertThat(value.has("desc")).isFalse();
    assertThat(value.get("uri").asString()).isEqualTo("/a");
    assertThat(value.get("upstream").get("type").asString()).isEqualTo("roundrobin");
    assertThat(value.get("upstream").get("nodes").size()).isEqualTo(2);

    assertThat(call(HttpMethod.PATCH, "/routes/2", "{}").status()).isEqualTo(404);
    Answer invalid = call(HttpMethod.PATCH, "/routes/1", "{\"uri\":null}");
    assertThat(invalid.status()).isEqualTo(400);
    assertThat(store.get(ResourceType.ROUTES, "1").orElseThrow().resource().value().has("uri"))
        .isTrue();
  }

  @Test
  void unknownTypesPathsAndMethods() {
    Answer type = call(HttpMethod.GET, "/widgets", null);
    assertThat(type.status()).isEqualTo(404);
    assertThat(type.error()).contains("'widgets'");
    assertThat(call(HttpMethod.GET, "/routes/1/methods", null).status()).isEqualTo(404);
    assertThat(call(HttpMethod.GET, "/routes/", null).status()).isEqualTo(404);

    Answer method = call(HttpMethod.POST, "/routes/1", "{}");
    assertThat(method.status()).isEqualTo(405);
    assertThat(method.error()).contains("POST");
    assertThat(call(HttpMethod.DELETE, "/routes", null).status()).isEqualTo(405);
  }

  @Test
  void anUnknownTypeIs404WhateverTheMethod() {
    assertThat(call(HttpMethod.DELETE, "/widgets", null).status()).isEqualTo(404);
    assertThat(call(HttpMethod.POST, "/widgets", "{}").status()).isEqualTo(404);
    assertThat(call(HttpMethod.PUT, "/widgets/1", UPSTREAM).status()).isEqualTo(404);
    Answer collection = call(HttpMethod.PATCH, "/routes", "{}");
    assertThat(collection.status()).isEqualTo(405);
    assertThat(collection.headers().getFirst(HttpHeaders.ALLOW)).isEqualTo("GET, PUT, POST");
    Answer item = call(HttpMethod.POST, "/routes/1", "{}");
    assertThat(item.headers().getFirst(HttpHeaders.ALLOW)).isEqualTo("GET, PUT, PATCH, DELETE");
    assertThat(call(HttpMethod.GET, "", null).status()).isEqualTo(404);
  }

  @Test
  void anOversizedBodyIs413AndStoresNothing() {
    String huge = "{\"desc\":\"" + "x".repeat(300_000) + "\"," + UPSTREAM.substring(1);
    Answer answer = call(HttpMethod.PUT, "/upstreams/1", huge);
    assertThat(answer.status()).isEqualTo(413);
    assertThat(answer.error()).startsWith("invalid request body: ");
    assertThat(store.revision()).isZero();
  }

  @Test
  void pathSegmentsArePercentDecodedAsApisixDecodesItsUri() {
    call(HttpMethod.PUT, "/upstreams/1", UPSTREAM);
    client
        .get()
        .uri(URI.create("/apisix/admin/upstream%73/%31"))
        .header("X-API-KEY", KEY)
        .exchange()
        .expectStatus()
        .isOk();
  }

  @Test
  void anAdminKeyIsRequired() {
    assertThatThrownBy(() -> new AdminAccess(List.of(), List.of(), true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("admin_key");
    assertThatThrownBy(() -> new AdminKey("admin", " ", AdminKey.Role.ADMIN))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
