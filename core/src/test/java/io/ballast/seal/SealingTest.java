package io.ballast.seal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.resource.InvalidResourceException;
import io.ballast.resource.Json;
import io.ballast.resource.ParseMode;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class SealingTest {

  private static final Keyring KEYRING =
      Keyring.of(List.of("new-entry-0123456789", "old-entry-0123456789"));
  private static final Sealing SEALS = Sealing.with(KEYRING, true);

  private static Resource consumer(String json) {
    return Resource.parse(ResourceType.CONSUMERS, "alice", Json.mapper().readTree(json));
  }

  private static final Resource ALICE =
      consumer(
          "{\"username\":\"alice\",\"plugins\":{\"key-auth\":{\"key\":\"alice-key-123\"},"
              + "\"basic-auth\":{\"username\":\"alice\",\"password\":\"alice-pw-456\"}}}");

  @Test
  void sealsApisixsEncryptFieldsAndOpensThemAgain() {
    Resource sealed = SEALS.forStore(ALICE);

    JsonNode plugins = sealed.value().get("plugins");
    assertThat(plugins.at("/key-auth/key").asString()).startsWith(Keyring.PREFIX);
    assertThat(plugins.at("/basic-auth/password").asString()).startsWith(Keyring.PREFIX);
    assertThat(plugins.at("/basic-auth/username").asString()).isEqualTo("alice");
    assertThat(sealed.value().toString()).doesNotContain("alice-key-123", "alice-pw-456");
    assertThat(ALICE.value().at("/plugins/key-auth/key").asString()).isEqualTo("alice-key-123");

    assertThat(SEALS.opened(sealed)).isEqualTo(ALICE);
    assertThat(
            Sealing.with(Keyring.of(List.of("old-entry-0123456789", "new-entry-0123456789")), false)
                .opened(sealed))
        .isEqualTo(ALICE);
  }

  @Test
  void sealsSslPrivateKeysAndUpstreamClientKeys() {
    Resource ssl =
        Resource.parse(
            ResourceType.SSLS,
            "s1",
            Json.mapper()
                .readTree(
                    "{\"cert\":\"CERT\",\"key\":\"PRIVATE-1\",\"certs\":[\"CERT2\"],"
                        + "\"keys\":[\"PRIVATE-2\"],\"snis\":[\"a.example\"]}"));
    // Upstream tls is refused at the Admin API now, but a store written before holds it and is
    // read tolerantly: its private key must still be sealed.
    Resource upstream =
        Resource.parse(
            ResourceType.UPSTREAMS,
            "u1",
            Json.mapper()
                .readTree(
                    "{\"nodes\":{\"127.0.0.1:80\":1},\"tls\":{\"client_cert\":\"C\","
                        + "\"client_key\":\"PRIVATE-3\"}}"),
            ParseMode.TOLERANT);

    assertThat(SEALS.forStore(ssl).value().toString())
        .doesNotContain("PRIVATE-1", "PRIVATE-2")
        .contains("CERT2");
    assertThat(SEALS.forStore(upstream).value().toString()).doesNotContain("PRIVATE-3");
    assertThat(SEALS.opened(SEALS.forStore(ssl))).isEqualTo(ssl);
  }

  @Test
  void aResourceWithoutSecretsIsTheSameObject() {
    Resource route =
        Resource.parse(
            ResourceType.ROUTES,
            "r1",
            Json.mapper()
                .readTree("{\"uri\":\"/a\",\"upstream\":{\"nodes\":{\"127.0.0.1:80\":1}}}"));
    Resource sealed = SEALS.forStore(ALICE);

    assertThat(SEALS.forStore(route)).isSameAs(route);
    assertThat(SEALS.opened(route)).isSameAs(route);
    // Already sealed with the first entry: stored as it is, not sealed twice.
    assertThat(SEALS.forStore(sealed)).isSameAs(sealed);
    ResourceSet plain = ResourceSet.builder().add(route).add(ALICE).build();
    assertThat(SEALS.opened(plain)).isSameAs(plain);
  }

  @Test
  void aValueSealedWithAnOlderEntryIsSealedAgainWithTheFirst() {
    Resource old = Sealing.with(Keyring.of(List.of("old-entry-0123456789")), true).forStore(ALICE);

    Resource resealed = SEALS.forStore(old);

    String key = resealed.value().at("/plugins/key-auth/key").asString();
    assertThat(key).isNotEqualTo(old.value().at("/plugins/key-auth/key").asString());
    assertThat(KEYRING.open(key)).contains(new Keyring.Opened(0, "alice-key-123"));
  }

  @Test
  void withSealingOffTheStoreGetsPlainTextBack() {
    Resource sealed = SEALS.forStore(ALICE);

    assertThat(Sealing.with(KEYRING, false).forStore(sealed)).isEqualTo(ALICE);
    assertThat(Sealing.with(KEYRING, false).forStore(ALICE)).isSameAs(ALICE);
  }

  @Test
  void aSealedValueNoEntryOpensIsRefusedNamingTheResourceAndField() {
    Resource sealed = SEALS.forStore(ALICE);
    Sealing stranger = Sealing.with(Keyring.of(List.of("someone-elses-key-01")), true);

    assertThatThrownBy(() -> stranger.opened(sealed))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageStartingWith("consumer 'alice': plugins.")
        .hasMessageContaining("no entry of apisix.data_encryption.keyring opens");
    assertThatThrownBy(() -> Sealing.off().opened(sealed))
        .isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("this node has no apisix.data_encryption.keyring");
    assertThatThrownBy(() -> stranger.forStore(sealed))
        .isInstanceOf(InvalidResourceException.class);
    assertThatThrownBy(() -> stranger.opened(ResourceSet.builder().add(sealed).build()))
        .hasMessageStartingWith("consumer 'alice': plugins.");
  }
}
