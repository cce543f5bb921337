package io.ballast.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;
import tools.jackson.databind.node.ObjectNode;

class StoreLineageTest {

  private static final Clock T1 = Clock.fixed(Instant.ofEpochSecond(1_700_000_000), ZoneOffset.UTC);
  private static final String STORAGE_LINEAGE = "5b0c6d2e-8a51-4a8e-9d0e-2f6f3b1c7a10";

  @TempDir Path dir;
  @TempDir Path backup;

  private static Resource upstream(String id) {
    return Resource.parse(
        ResourceType.UPSTREAMS,
        id,
        (ObjectNode)
            Json.mapper()
                .readTree(
                    "{\"id\":\""
                        + id
                        + "\",\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:80\":1}}"));
  }

  private static Resource route(String id, String upstreamId) {
    return Resource.parse(
        ResourceType.ROUTES,
        id,
        (ObjectNode)
            Json.mapper()
                .readTree(
                    "{\"id\":\""
                        + id
                        + "\",\"uri\":\"/"
                        + id
                        + "\",\"upstream_id\":\""
                        + upstreamId
                        + "\"}"));
  }

  private ConfigStore open(Path folder) {
    return ConfigStore.open(folder, T1, ConfigStore.DEFAULT_COMPACT_AFTER);
  }

  @Test
  void aNewStoreHasALineageThatSurvivesRestartAndCompaction() {
    String lineage;
    try (ConfigStore store = open(dir)) {
      lineage = store.lineage();
      assertThat(UUID.fromString(lineage)).isNotNull();
      assertThat(store.view().lineage()).isEqualTo(lineage);
      store.put(upstream("u1"));
    }
    try (ConfigStore store = ConfigStore.open(dir, T1, 1)) {
      assertThat(store.lineage()).isEqualTo(lineage);
      store.put(upstream("u2"));
      store.put(upstream("u3")); // compacts: the log holds more than one entry
      store.checkpoint();
    }
    try (ConfigStore store = open(dir)) {
      assertThat(store.lineage()).isEqualTo(lineage);
      assertThat(store.revision()).isEqualTo(3);
    }
    try (ConfigStore other = open(backup)) {
      assertThat(other.lineage()).as("another store, another lineage").isNotEqualTo(lineage);
    }
  }

  @Test
  void theLineageIsOnDiskBeforeTheFirstWrite() throws Exception {
    // A process killed right after opening a new store must find the same lineage again.
    String lineage;
    try (ConfigStore store = open(dir)) {
      lineage = store.lineage();
    }
    assertThat(Files.readString(dir.resolve(Checkpoint.FILE))).contains(lineage);
  }

  @Test
  void aStoreRestoredFromABackupKeepsTheBackupsLineage() throws Exception {
    String lineage;
    try (ConfigStore store = open(dir)) {
      lineage = store.lineage();
      store.put(upstream("u1"));
      store.put(upstream("u2"));
    }
    copyFolder(dir, backup);
    try (ConfigStore restored = open(backup)) {
      assertThat(restored.lineage()).isEqualTo(lineage);
      assertThat(restored.revision()).isEqualTo(2);
    }
  }

  @Test
  void aCheckpointWrittenBeforeLineagesGetsOneOnceAndKeepsIt() throws Exception {
    try (ConfigStore store = open(dir)) {
      store.put(upstream("u1"));
      store.checkpoint();
    }
    Path checkpoint = dir.resolve(Checkpoint.FILE);
    List<String> lines = Files.readAllLines(checkpoint);
    String header = lines.get(0).replaceAll(",\"lineage\":\"[^\"]+\"", "");
    assertThat(header).doesNotContain("lineage");
    Files.write(checkpoint, Stream.concat(Stream.of(header), lines.stream().skip(1)).toList());

    String assigned;
    try (ConfigStore store = open(dir)) {
      assigned = store.lineage();
      assertThat(assigned).isNotBlank();
      assertThat(store.revision()).isEqualTo(1);
      assertThat(store.get(ResourceType.UPSTREAMS, "u1")).isPresent();
    }
    try (ConfigStore store = open(dir)) {
      assertThat(store.lineage()).isEqualTo(assigned);
    }
  }

  @Test
  void importReplacesTheContentAndTheNextWriteIsNumberedAboveAfterARestart() {
    try (ConfigStore store = open(dir)) {
      store.put(upstream("old"));
      store.importSnapshot(STORAGE_LINEAGE, 10, List.of(upstream("u1"), route("r1", "u1")));
      assertThat(store.revision()).isEqualTo(10);
      assertThat(store.lineage()).isEqualTo(STORAGE_LINEAGE);
      assertThat(store.get(ResourceType.UPSTREAMS, "old")).isEmpty();
      StoredResource r1 = store.get(ResourceType.ROUTES, "r1").orElseThrow();
      assertThat(r1.createdIndex()).isEqualTo(10);
      assertThat(r1.modifiedIndex()).isEqualTo(10);
    }
    try (ConfigStore store = open(dir)) {
      assertThat(store.revision()).isEqualTo(10);
      assertThat(store.lineage()).isEqualTo(STORAGE_LINEAGE);
      assertThat(store.view().resources(ResourceType.UPSTREAMS)).containsOnlyKeys("u1");
      assertThat(store.put(upstream("u2")).modifiedIndex()).isEqualTo(11);
    }
    try (ConfigStore store = open(dir)) {
      assertThat(store.revision()).isEqualTo(11);
      assertThat(store.lineage()).isEqualTo(STORAGE_LINEAGE);
    }
  }

  @Test
  void importBelowTheStoresRevisionLeavesNothingOfTheOldLogBehind() {
    // A foreign store at revision 12 given up for storage's version 5: the old log's revisions
    // 6..12 are above the import and must not be replayed over it.
    try (ConfigStore store = open(dir)) {
      for (int i = 0; i < 12; i++) {
        store.put(upstream("foreign" + i));
      }
      store.importSnapshot(STORAGE_LINEAGE, 5, List.of(upstream("u1")));
    }
    try (ConfigStore store = open(dir)) {
      assertThat(store.revision()).isEqualTo(5);
      assertThat(store.view().resources(ResourceType.UPSTREAMS)).containsOnlyKeys("u1");
    }
  }

  @Test
  void importIsPublishedAsARevision() {
    try (ConfigStore store = open(dir)) {
      StepVerifier.create(store.revisions().take(2))
          .expectNext(0L)
          .then(() -> store.importSnapshot(STORAGE_LINEAGE, 7, List.of()))
          .expectNext(7L)
          .verifyComplete();
    }
  }

  @Test
  void importRefusesADanglingReferenceOrADuplicateAndChangesNothing() {
    try (ConfigStore store = open(dir)) {
      store.put(upstream("kept"));
      String lineage = store.lineage();
      assertThatThrownBy(
              () -> store.importSnapshot(STORAGE_LINEAGE, 10, List.of(route("r1", "missing"))))
          .isInstanceOf(StoreConflictException.class)
          .hasMessageContaining("route 'r1'")
          .hasMessageContaining("missing");
      assertThatThrownBy(
              () ->
                  store.importSnapshot(STORAGE_LINEAGE, 10, List.of(upstream("u"), upstream("u"))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("imported twice");
      assertThat(store.revision()).isEqualTo(1);
      assertThat(store.lineage()).isEqualTo(lineage);
      assertThat(store.get(ResourceType.UPSTREAMS, "kept")).isPresent();
    }
  }

  @Test
  void continueFromMovesTheRevisionUpDurablyAndKeepsContentAndLineage() {
    String lineage;
    try (ConfigStore store = open(dir)) {
      lineage = store.lineage();
      store.put(upstream("u1"));
      assertThat(store.continueFrom(11)).isTrue();
      assertThat(store.revision()).isEqualTo(11);
      assertThat(store.continueFrom(4)).as("never down").isFalse();
      assertThat(store.revision()).isEqualTo(11);
    }
    try (ConfigStore store = open(dir)) {
      assertThat(store.revision()).isEqualTo(11);
      assertThat(store.lineage()).isEqualTo(lineage);
      assertThat(store.get(ResourceType.UPSTREAMS, "u1").orElseThrow().modifiedIndex())
          .isEqualTo(1);
      assertThat(store.put(upstream("u2")).modifiedIndex()).isEqualTo(12);
    }
  }

  private static void copyFolder(Path from, Path to) throws Exception {
    try (Stream<Path> files = Files.list(from)) {
      for (Path file : files.toList()) {
        if (!file.getFileName().toString().equals("store.lock")) {
          Files.copy(file, to.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }
}
