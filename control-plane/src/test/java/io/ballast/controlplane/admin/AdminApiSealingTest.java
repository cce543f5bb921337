package io.ballast.controlplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.controlplane.store.ConfigStore;
import io.ballast.resource.Cidr;
import io.ballast.resource.Json;
import io.ballast.resource.ResourceType;
import io.ballast.seal.Keyring;
import io.ballast.seal.Sealing;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.HttpMethod;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** The Admin API seals secrets before its store sees them, as APISIX's does. */
class AdminApiSealingTest {

  private static final String KEY = "admin-key-for-sealing-test";
  private static final Sealing SEALING =
      Sealing.with(Keyring.of(List.of("cp-keyring-entry-0001")), true);
  private static final String ALICE =
      "{\"plugins\":{\"key-auth\":{\"key\":\"alice-key-123\"},"
          + "\"basic-auth\":{\"username\":\"alice\",\"password\":\"alice-pw-456\"}}}";

  @TempDir Path dir;
  private ConfigStore store;
  private WebTestClient client;

  private record Answer(int status, JsonNode body) {}

  @BeforeEach
  void start() {
    store = ConfigStore.open(dir);
    client =
        WebTestClient.bindToRouterFunction(
                AdminApi.routes(
                    store,
                    new AdminAccess(
                        List.of(new AdminKey("admin", KEY, AdminKey.Role.ADMIN)),
                        List.of(Cidr.parse("127.0.0.0/24")),
                        true),
                    SEALING))
            .webFilter(AdminApiAccessTest.from("127.0.0.1"))
            .build();
  }

  @AfterEach
  void stop() {
    store.close();
  }

  private Answer call(HttpMethod method, String path, String body) {
    WebTestClient.RequestBodySpec spec =
        client.method(method).uri("/apisix/admin" + path).header("X-API-KEY", KEY);
    WebTestClient.RequestHeadersSpec<?> ready =
        body == null ? spec : spec.bodyValue(body.getBytes(StandardCharsets.UTF_8));
    EntityExchangeResult<byte[]> result = ready.exchange().expectBody(byte[].class).returnResult();
    return new Answer(result.getStatus().value(), Json.mapper().readTree(result.getResponseBody()));
  }

  private String storedPlain(String field) {
    return SEALING
        .opened(store.get(ResourceType.CONSUMERS, "alice").orElseThrow().resource())
        .value()
        .at(field)
        .asString();
  }

  private String storeFiles() throws IOException {
    StringBuilder all = new StringBuilder();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        all.append(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1));
      }
    }
    return all.toString();
  }

  @Test
  void theStoreAndGetHoldOnlySealedSecrets() throws IOException {
    Answer put = call(HttpMethod.PUT, "/consumers/alice", ALICE);
    assertThat(put.status()).isEqualTo(201);
    Answer get = call(HttpMethod.GET, "/consumers/alice", null);

    // APISIX's GET answers the stored, encrypted value.
    assertThat(get.body().at("/value/plugins/key-auth/key").asString()).startsWith(Keyring.PREFIX);
    assertThat(get.body().at("/value/plugins/basic-auth/password").asString())
        .startsWith(Keyring.PREFIX);
    assertThat(get.body().toString() + put.body()).doesNotContain("alice-key-123", "alice-pw-456");
    assertThat(call(HttpMethod.GET, "/consumers", null).body().toString())
        .doesNotContain("alice-key-123");
    assertThat(storeFiles()).doesNotContain("alice-key-123", "alice-pw-456");
    assertThat(storedPlain("/plugins/key-auth/key")).isEqualTo("alice-key-123");
  }

  @Test
  void aValueCopiedFromGetIsTakenBackAndPatchSealsOnce() {
    call(HttpMethod.PUT, "/consumers/alice", ALICE);
    ObjectNode value =
        (ObjectNode) call(HttpMethod.GET, "/consumers/alice", null).body().get("value");
    value.put("desc", "copied");

    assertThat(call(HttpMethod.PUT, "/consumers/alice", value.toString()).status()).isEqualTo(200);
    assertThat(storedPlain("/plugins/key-auth/key")).isEqualTo("alice-key-123");

    assertThat(call(HttpMethod.PATCH, "/consumers/alice", "{\"desc\":\"patched\"}").status())
        .isEqualTo(200);
    assertThat(storedPlain("/plugins/key-auth/key")).isEqualTo("alice-key-123");
    assertThat(storedPlain("/plugins/basic-auth/password")).isEqualTo("alice-pw-456");
  }

  @Test
  void twoConsumersCannotShareAKeyEvenSealed() {
    call(HttpMethod.PUT, "/consumers/alice", ALICE);

    Answer bob =
        call(
            HttpMethod.PUT,
            "/consumers/bob",
            "{\"plugins\":{\"key-auth\":{\"key\":\"alice-key-123\"}}}");

    assertThat(bob.status()).isEqualTo(400);
  }

  @Test
  void aValueSealedUnderAnotherKeyringIsRefusedNamingTheField() {
    String foreign = Keyring.of(List.of("someone-elses-keyring")).seal("whatever-key");

    Answer answer =
        call(
            HttpMethod.PUT,
            "/consumers/alice",
            "{\"plugins\":{\"key-auth\":{\"key\":\"" + foreign + "\"}}}");

    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.body().get("error_msg").asString())
        .startsWith("consumer 'alice': plugins.key-auth.key: is sealed with a key");
    assertThat(store.get(ResourceType.CONSUMERS, "alice")).isEmpty();
  }

  @Test
  void getNeverAnswersAnSslsPrivateKeys() throws Exception {
    SelfSignedCertificate certificate = new SelfSignedCertificate("a.example");
    try {
      String cert = Files.readString(certificate.certificate().toPath());
      String key = Files.readString(certificate.privateKey().toPath());
      ObjectNode ssl = Json.mapper().createObjectNode();
      ssl.put("cert", cert).put("key", key).putArray("snis").add("a.example");

      Answer put = call(HttpMethod.PUT, "/ssls/s1", ssl.toString());
      assertThat(put.status()).isEqualTo(201);
      Answer get = call(HttpMethod.GET, "/ssls/s1", null);

      assertThat(get.body().get("value").has("key")).isFalse();
      assertThat(get.body().at("/value/cert").asString()).isEqualTo(cert);
      assertThat(call(HttpMethod.GET, "/ssls", null).body().at("/list/0/value").has("key"))
          .isFalse();
      assertThat(put.body().get("value").has("key")).isFalse();
      String stored =
          store.get(ResourceType.SSLS, "s1").orElseThrow().resource().value().get("key").asString();
      assertThat(stored).startsWith(Keyring.PREFIX);
      String body = key.substring(key.indexOf('\n') + 1, key.indexOf('\n') + 40);
      assertThat(storeFiles()).doesNotContain(body);
    } finally {
      certificate.delete();
    }
  }
}
