package io.ballast.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.controlplane.store.ConfigStore;
import io.ballast.resource.InvalidResourceException;
import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import io.ballast.seal.Keyring;
import io.ballast.seal.Sealing;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreSealerTest {

  private static final Resource ALICE =
      Resource.parse(
          ResourceType.CONSUMERS,
          "alice",
          Json.mapper().readTree("{\"plugins\":{\"key-auth\":{\"key\":\"alice-key-123\"}}}"));
  private static final Keyring OLD = Keyring.of(List.of("old-keyring-entry-01"));
  private static final Keyring ROTATED =
      Keyring.of(List.of("new-keyring-entry-01", "old-keyring-entry-01"));

  @TempDir Path dir;

  private String files() throws IOException {
    StringBuilder all = new StringBuilder();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        all.append(Files.readString(file, StandardCharsets.ISO_8859_1));
      }
    }
    return all.toString();
  }

  private String storedKey(ConfigStore store) {
    return store
        .get(ResourceType.CONSUMERS, "alice")
        .orElseThrow()
        .resource()
        .value()
        .at("/plugins/key-auth/key")
        .asString();
  }

  @Test
  void aStoreWrittenBeforeSealingIsSealedAndItsLogRewritten() throws IOException {
    try (ConfigStore store = ConfigStore.open(dir)) {
      store.put(ALICE);
    }
    assertThat(files()).contains("alice-key-123");

    try (ConfigStore store = ConfigStore.open(dir)) {
      assertThat(StoreSealer.reseal(store, Sealing.with(OLD, true))).isEqualTo(1);
      assertThat(OLD.open(storedKey(store)).orElseThrow().plaintext()).isEqualTo("alice-key-123");
      assertThat(StoreSealer.reseal(store, Sealing.with(OLD, true))).isZero();
    }
    assertThat(files()).doesNotContain("alice-key-123");
  }

  @Test
  void aRotatedKeyringSealsAgainWithItsFirstEntry() {
    try (ConfigStore store = ConfigStore.open(dir)) {
      store.put(Sealing.with(OLD, true).forStore(ALICE));
      String before = storedKey(store);

      assertThat(StoreSealer.reseal(store, Sealing.with(ROTATED, true))).isEqualTo(1);

      assertThat(storedKey(store)).isNotEqualTo(before);
      assertThat(ROTATED.open(storedKey(store)).orElseThrow().entry()).isZero();
      assertThat(Keyring.of(List.of("new-keyring-entry-01")).open(storedKey(store))).isPresent();
    }
  }

  @Test
  void aStoreItsKeyringCannotOpenStopsTheStart() {
    try (ConfigStore store = ConfigStore.open(dir)) {
      store.put(Sealing.with(OLD, true).forStore(ALICE));

      assertThatThrownBy(
              () ->
                  StoreSealer.reseal(
                      store, Sealing.with(Keyring.of(List.of("new-keyring-entry-01")), true)))
          .isInstanceOf(InvalidResourceException.class)
          .hasMessageStartingWith("consumer 'alice': plugins.key-auth.key: is sealed");
    }
  }
}
