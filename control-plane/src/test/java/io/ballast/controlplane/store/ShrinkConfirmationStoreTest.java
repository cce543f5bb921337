package io.ballast.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/** The store remembers, with its revision, that an operator confirmed a shrink. */
class ShrinkConfirmationStoreTest {

  private static final Clock CLOCK =
      Clock.fixed(Instant.ofEpochSecond(1_700_000_000), ZoneOffset.UTC);

  @TempDir Path dir;

  private ConfigStore open(int compactAfter) {
    return ConfigStore.open(dir, CLOCK, compactAfter);
  }

  private static Resource route(String id) {
    return Resource.parse(
        ResourceType.ROUTES,
        id,
        (ObjectNode)
            Json.mapper()
                .readTree(
                    "{\"uri\":\"/"
                        + id
                        + "\",\"upstream\":{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:80\":1}}}"));
  }

  @Test
  void aConfirmedDeleteIsLoggedWithItsRevisionAndSurvivesARestart() throws Exception {
    try (ConfigStore store = open(100)) {
      store.put(route("r1"));
      store.put(route("r2"));
      assertThat(store.view().shrinkConfirmedRevision()).isZero();
      store.delete(ResourceType.ROUTES, "r1", true);
      store.delete(ResourceType.ROUTES, "r2");
      assertThat(store.view().shrinkConfirmedRevision()).isEqualTo(3);
      assertThat(store.view().shrinkConfirmedSince(2)).isTrue();
      assertThat(store.view().shrinkConfirmedSince(3)).isFalse();
    }
    assertThat(Files.readAllLines(dir.resolve(WriteAheadLog.FILE)))
        .filteredOn(line -> line.contains("\"shrink_confirmed\":true"))
        .singleElement()
        .asString()
        .contains("\"rev\":3", "\"op\":\"delete\"");
    try (ConfigStore store = open(100)) {
      assertThat(store.revision()).isEqualTo(4);
      assertThat(store.view().shrinkConfirmedRevision()).isEqualTo(3);
    }
  }

  @Test
  void aConfirmationAfterTheFactIsAWriteOfItsOwnThatChangesNoResource() {
    try (ConfigStore store = open(100)) {
      store.put(route("r1"));
      store.delete(ResourceType.ROUTES, "r1");
      StoreView before = store.view();

      assertThat(store.confirmShrink()).isEqualTo(3);

      assertThat(store.revision()).isEqualTo(3);
      assertThat(store.view().shrinkConfirmedRevision()).isEqualTo(3);
      assertThat(store.view().size()).isEqualTo(before.size());
      store.put(route("r2"));
      assertThat(store.view().shrinkConfirmedRevision())
          .as("a later unconfirmed write keeps the confirmation's revision")
          .isEqualTo(3);
    }
    try (ConfigStore store = open(100)) {
      assertThat(store.revision()).isEqualTo(4);
      assertThat(store.view().shrinkConfirmedRevision()).isEqualTo(3);
      assertThat(store.get(ResourceType.ROUTES, "r2")).isPresent();
    }
  }

  @Test
  void aCheckpointKeepsTheConfirmation() {
    try (ConfigStore store = open(100)) {
      store.put(route("r1"));
      store.confirmShrink();
      store.checkpoint();
    }
    try (ConfigStore store = open(100)) {
      assertThat(store.revision()).isEqualTo(2);
      assertThat(store.view().shrinkConfirmedRevision()).isEqualTo(2);
    }
  }
}
