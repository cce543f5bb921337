package io.ballast.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import reactor.test.StepVerifier;
import tools.jackson.databind.node.ObjectNode;

class ConfigStoreTest {

  private static final Clock T1 = Clock.fixed(Instant.ofEpochSecond(1_700_000_000), ZoneOffset.UTC);
  private static final Clock T2 = Clock.fixed(Instant.ofEpochSecond(1_700_000_500), ZoneOffset.UTC);

  @TempDir Path dir;

  private static Resource resource(ResourceType type, String id, String json) {
    return Resource.parse(type, id, (ObjectNode) Json.mapper().readTree(json));
  }

  private static Resource upstream(String id) {
    return resource(
        ResourceType.UPSTREAMS,
        id,
        "{\"id\":\"" + id + "\",\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:80\":1}}");
  }

  private static Resource route(String id, String extra) {
    return resource(
        ResourceType.ROUTES, id, "{\"id\":\"" + id + "\",\"uri\":\"/" + id + "\"" + extra + "}");
  }

  private ConfigStore open() {
    return ConfigStore.open(dir, T1, ConfigStore.DEFAULT_COMPACT_AFTER);
  }

  @Test
  void putGetDeleteCountRevisions() {
    try (ConfigStore store = open()) {
      assertThat(store.revision()).isZero();

      StoredResource created = store.put(upstream("u1"));
      assertThat(created.created()).isTrue();
      assertThat(created.createdIndex()).isEqualTo(1);
      assertThat(created.modifiedIndex()).isEqualTo(1);
      assertThat(created.resource().value().get("create_time").asLong()).isEqualTo(1_700_000_000);
      assertThat(created.resource().value().get("update_time").asLong()).isEqualTo(1_700_000_000);
      assertThat(store.get(ResourceType.UPSTREAMS, "u1")).contains(created);

      StoredResource replaced = store.put(upstream("u1"));
      assertThat(replaced.created()).isFalse();
      assertThat(replaced.createdIndex()).isEqualTo(1);
      assertThat(replaced.modifiedIndex()).isEqualTo(2);
      assertThat(store.revision()).isEqualTo(2);

      assertThat(store.delete(ResourceType.UPSTREAMS, "u1")).contains(replaced);
      assertThat(store.revision()).isEqualTo(3);
      assertThat(store.get(ResourceType.UPSTREAMS, "u1")).isEmpty();

      assertThat(store.delete(ResourceType.UPSTREAMS, "u1")).isEmpty();
      assertThat(store.revision()).as("deleting nothing is not a write").isEqualTo(3);
    }
  }

  @Test
  void bumpingTheRevisionKeepsTheResourcesAndSurvivesARestart() {
    try (ConfigStore store = open()) {
      store.put(upstream("u1"));
      store.put(route("r1", ",\"upstream_id\":\"u1\""));

      assertThat(store.bumpRevision("instance settings changed")).isEqualTo(3);
      assertThat(store.revisions().blockFirst()).isEqualTo(3);
      store.put(route("r2", ",\"upstream_id\":\"u1\""));
    }
    try (ConfigStore store = open()) {
      assertThat(store.revision()).isEqualTo(4);
      assertThat(store.view().size()).isEqualTo(3);
      assertThat(store.get(ResourceType.ROUTES, "r2").orElseThrow().modifiedIndex()).isEqualTo(4);
    }
  }

  @Test
  void createTimeIsKeptFromTheFirstPutAndUpdateTimeMoves() {
    try (ConfigStore store = open()) {
      store.put(upstream("u1"));
    }
    try (ConfigStore store = ConfigStore.open(dir, T2, 100)) {
      ObjectNode value = store.put(upstream("u1")).resource().value();
      assertThat(value.get("create_time").asLong()).isEqualTo(1_700_000_000);
      assertThat(value.get("update_time").asLong()).isEqualTo(1_700_000_500);
    }
  }

  @Test
  void storedValueIsACopyOfTheCallersValue() {
    try (ConfigStore store = open()) {
      Resource given = upstream("u1");
      store.put(given);
      assertThat(given.value().has("create_time")).isFalse();
    }
  }

  @Test
  void reopenRestoresEverythingAndTheRevisionContinues() {
    StoreView before;
    try (ConfigStore store = open()) {
      store.put(upstream("u1"));
      store.put(upstream("u2"));
      store.put(route("r1", ",\"upstream_id\":\"u1\""));
      store.put(upstream("u2"));
      store.delete(ResourceType.UPSTREAMS, "u2");
      before = store.view();
    }
    try (ConfigStore store = open()) {
      assertSameContent(store.view(), before);
      assertThat(store.revision()).isEqualTo(5);
      assertThat(store.put(upstream("u3")).modifiedIndex()).isEqualTo(6);
    }
    try (ConfigStore store = open()) {
      assertThat(store.revision()).isEqualTo(6);
    }
  }

  @Test
  void tornLastLineIsIgnoredAndCutOff() throws Exception {
    try (ConfigStore store = open()) {
      store.put(upstream("u1"));
      store.put(upstream("u2"));
    }
    Path wal = dir.resolve(WriteAheadLog.FILE);
    long goodSize = Files.size(wal);
    Files.writeString(wal, "{\"rev\":3,\"op\":\"put\",\"type\":\"upst", StandardOpenOption.APPEND);

    try (ConfigStore store = open()) {
      assertThat(store.revision()).isEqualTo(2);
      assertThat(store.view().resources(ResourceType.UPSTREAMS)).containsOnlyKeys("u1", "u2");
      assertThat(Files.size(wal)).isEqualTo(goodSize);
      assertThat(store.put(upstream("u3")).modifiedIndex()).isEqualTo(3);
    }
    try (ConfigStore store = open()) {
      assertThat(store.view().resources(ResourceType.UPSTREAMS)).containsOnlyKeys("u1", "u2", "u3");
    }
  }

  @Test
  void corruptLineInTheMiddleRefusesToOpenNamingFileAndLine() throws Exception {
    try (ConfigStore store = open()) {
      store.put(upstream("u1"));
    }
    Path wal = dir.resolve(WriteAheadLog.FILE);
    Files.writeString(wal, "garbage\n", StandardOpenOption.APPEND);
    try (ConfigStore store = open()) {
      store.put(upstream("u2")); // never reached
    } catch (IllegalStateException e) {
      assertThat(e).hasMessageContaining(wal.toString()).hasMessageContaining("line 2");
      return;
    }
    throw new AssertionError("opening a corrupt log should fail");
  }

  @Test
  void wellFormedLineWithAWrongFieldNamesTheField() throws Exception {
    try (ConfigStore store = open()) {
      store.put(upstream("u1"));
    }
    Path wal = dir.resolve(WriteAheadLog.FILE);
    Files.writeString(
        wal,
        "{\"rev\":2,\"op\":\"put\",\"type\":\"widgets\",\"id\":\"x\",\"value\":{},"
            + "\"created_index\":2}\n",
        StandardOpenOption.APPEND);
    assertThatThrownBy(this::open)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("line 2")
        .hasMessageContaining("widgets");
  }

  @Test
  void aLoggedResourceThisVersionRefusesIsNamedNotCalledCorrupt() throws Exception {
    try (ConfigStore store = open()) {
      store.put(upstream("u1"));
    }
    Path wal = dir.resolve(WriteAheadLog.FILE);
    Files.writeString(
        wal,
        "{\"rev\":2,\"op\":\"put\",\"type\":\"upstreams\",\"id\":\"u2\",\"value\":{},"
            + "\"created_index\":2}\n",
        StandardOpenOption.APPEND);
    assertThatThrownBy(this::open)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("store file " + wal + " at line 2 holds a resource this version")
        .hasMessageEndingWith("upstream 'u2': nodes: is required")
        .message()
        .doesNotContain("corrupt");
  }

  @Test
  void fieldsAnOlderBallastAcceptedAreReplayedIgnoredAndNamedInOneWarning() throws Exception {
    try (ConfigStore store = open()) {
      store.put(upstream("u1"));
    }
    // What an older Ballast stored before it refused unknown fields at the Admin API.
    Files.writeString(
        dir.resolve(WriteAheadLog.FILE),
        "{\"rev\":2,\"op\":\"put\",\"type\":\"upstreams\",\"id\":\"u2\",\"value\":"
            + "{\"id\":\"u2\",\"tpye\":\"chash\",\"nodes\":{\"127.0.0.1:80\":1}},"
            + "\"created_index\":2}\n"
            + "{\"rev\":3,\"op\":\"put\",\"type\":\"routes\",\"id\":\"r1\",\"value\":"
            + "{\"id\":\"r1\",\"uri\":\"/a\",\"upstream_id\":\"u2\",\"method\":[\"POST\"]},"
            + "\"created_index\":3}\n",
        StandardOpenOption.APPEND);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    Logger logger = (Logger) LoggerFactory.getLogger(ConfigStore.class);
    logger.addAppender(logged);
    logged.start();
    try {
      // Compacting on open also writes the fields into the checkpoint, read back below.
      try (ConfigStore store = ConfigStore.open(dir, T1, 1)) {
        assertThat(store.revision()).isEqualTo(3);
        Resource route = store.get(ResourceType.ROUTES, "r1").orElseThrow().resource();
        assertThat(route.ignoredFields()).containsExactly("method");
        assertThat(route.value().has("method")).isTrue();
      }
      try (ConfigStore store = open()) {
        assertThat(store.get(ResourceType.UPSTREAMS, "u2").orElseThrow().resource().ignoredFields())
            .containsExactly("tpye");
      }
    } finally {
      logger.detachAppender(logged);
    }
    List<String> warnings =
        logged.list.stream()
            .filter(e -> e.getLevel() == Level.WARN)
            .map(ILoggingEvent::getFormattedMessage)
            .toList();
    assertThat(warnings).hasSize(2); // one per open
    assertThat(warnings.get(0))
        .contains("does not accept")
        .contains("upstream 'u2': tpye; route 'r1': method");
  }

  @Test
  void compactionKeepsStateAndRevision() throws Exception {
    StoreView before;
    try (ConfigStore store = ConfigStore.open(dir, T1, 5)) {
      for (int i = 0; i < 12; i++) {
        store.put(upstream("u" + (i % 4)));
      }
      store.delete(ResourceType.UPSTREAMS, "u3");
      before = store.view();
      assertThat(Files.exists(dir.resolve(Checkpoint.FILE))).isTrue();
      assertThat(Files.readAllLines(dir.resolve(WriteAheadLog.FILE)).size()).isLessThanOrEqualTo(5);
    }
    try (ConfigStore store = ConfigStore.open(dir, T1, 5)) {
      assertSameContent(store.view(), before);
      assertThat(store.revision()).isEqualTo(13);
      assertThat(store.put(upstream("u9")).modifiedIndex()).isEqualTo(14);
    }
    try (ConfigStore store = open()) {
      assertThat(store.revision()).isEqualTo(14);
      assertThat(store.view().resources(ResourceType.UPSTREAMS))
          .containsOnlyKeys("u0", "u1", "u2", "u9");
    }
  }

  @Test
  void openCompactsALongLog() throws Exception {
    try (ConfigStore store = open()) {
      for (int i = 0; i < 4; i++) {
        store.put(upstream("u" + i));
      }
    }
    try (ConfigStore store = ConfigStore.open(dir, T1, 2)) {
      assertThat(Files.size(dir.resolve(WriteAheadLog.FILE))).isZero();
      assertThat(store.revision()).isEqualTo(4);
    }
    try (ConfigStore store = open()) {
      assertThat(store.revision()).isEqualTo(4);
      assertThat(store.view().resources(ResourceType.UPSTREAMS)).hasSize(4);
    }
  }

  @Test
  void logEntriesTheCheckpointAlreadyHoldsAreSkipped() throws Exception {
    // A crash between installing a checkpoint and emptying the log leaves both.
    try (ConfigStore store = open()) {
      store.put(upstream("u1"));
      store.put(upstream("u2"));
      store.delete(ResourceType.UPSTREAMS, "u1");
    }
    Path wal = dir.resolve(WriteAheadLog.FILE);
    byte[] oldLog = Files.readAllBytes(wal);
    try (ConfigStore store = ConfigStore.open(dir, T1, 1)) {
      assertThat(Files.size(wal)).isZero();
    }
    Files.write(wal, oldLog);
    try (ConfigStore store = open()) {
      assertThat(store.revision()).isEqualTo(3);
      assertThat(store.view().resources(ResourceType.UPSTREAMS)).containsOnlyKeys("u2");
      assertThat(store.put(upstream("u3")).modifiedIndex()).isEqualTo(4);
    }
  }

  @Test
  void concurrentWritersGetDistinctRevisionsThatAllSurviveReopen() throws Exception {
    int threads = 8;
    int perThread = 50;
    List<Long> revisions = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try (ConfigStore store = open()) {
      List<Future<List<Long>>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        futures.add(
            pool.submit(
                () -> {
                  List<Long> mine = new ArrayList<>();
                  for (int i = 0; i < perThread; i++) {
                    mine.add(store.put(upstream("t" + thread + "-" + i)).modifiedIndex());
                  }
                  return mine;
                }));
      }
      for (Future<List<Long>> future : futures) {
        revisions.addAll(future.get());
      }
    } finally {
      pool.shutdown();
    }
    Set<Long> distinct = new HashSet<>(revisions);
    assertThat(distinct).hasSize(threads * perThread);
    assertThat(distinct).allMatch(r -> r >= 1 && r <= threads * perThread);
    try (ConfigStore store = open()) {
      assertThat(store.revision()).isEqualTo(threads * perThread);
      assertThat(store.view().resources(ResourceType.UPSTREAMS)).hasSize(threads * perThread);
    }
  }

  @Test
  void referencesMustExistAndReferencedResourcesCannotBeDeleted() {
    try (ConfigStore store = open()) {
      assertThatThrownBy(() -> store.put(route("r1", ",\"upstream_id\":\"u1\"")))
          .isInstanceOf(StoreConflictException.class)
          .hasMessageContaining("route 'r1'")
          .hasMessageContaining("upstream_id 'u1'");
      assertThatThrownBy(() -> store.put(route("r1", ",\"service_id\":\"s1\"")))
          .isInstanceOf(StoreConflictException.class)
          .hasMessageContaining("service_id 's1'");
      assertThat(store.revision()).as("a refused write is not written").isZero();

      store.put(upstream("7"));
      store.put(resource(ResourceType.SERVICES, "s1", "{\"id\":\"s1\",\"upstream_id\":7}"));
      store.put(route("r1", ",\"service_id\":\"s1\""));
      store.put(route("r2", ",\"upstream_id\":\"7\""));

      assertThatThrownBy(() -> store.delete(ResourceType.UPSTREAMS, "7"))
          .isInstanceOf(StoreConflictException.class)
          .hasMessageContaining("upstream '7'")
          .hasMessageContaining("route 'r2'");
      store.delete(ResourceType.ROUTES, "r2");
      assertThatThrownBy(() -> store.delete(ResourceType.UPSTREAMS, "7"))
          .hasMessageContaining("service 's1'");
      assertThatThrownBy(() -> store.delete(ResourceType.SERVICES, "s1"))
          .isInstanceOf(StoreConflictException.class)
          .hasMessageContaining("route 'r1'");
      long revision = store.revision();

      store.delete(ResourceType.ROUTES, "r1");
      store.delete(ResourceType.SERVICES, "s1");
      store.delete(ResourceType.UPSTREAMS, "7");
      assertThat(store.revision()).isEqualTo(revision + 3);
      assertThat(store.view().size()).isZero();
    }
  }

  @Test
  void viewIsPointInTimeWhileWritesContinue() {
    try (ConfigStore store = open()) {
      for (int i = 0; i < 5; i++) {
        store.put(upstream("u" + i));
      }
      StoreView view = store.view();
      List<String> seen = new ArrayList<>();
      int written = 0;
      for (Map.Entry<String, StoredResource> entry :
          view.resources(ResourceType.UPSTREAMS).entrySet()) {
        seen.add(entry.getKey());
        store.put(upstream("later" + written++));
        store.delete(ResourceType.UPSTREAMS, "u4");
      }
      assertThat(seen).containsExactly("u0", "u1", "u2", "u3", "u4");
      assertThat(view.inCanonicalOrder().map(s -> s.resource().id()))
          .containsExactly("u0", "u1", "u2", "u3", "u4");
      assertThat(view.revision()).isEqualTo(5);
      assertThat(view.get(ResourceType.UPSTREAMS, "later0")).isEmpty();
      assertThat(store.view().resources(ResourceType.UPSTREAMS)).hasSize(9);
      assertThatThrownBy(() -> view.resources(ResourceType.UPSTREAMS).clear())
          .isInstanceOf(UnsupportedOperationException.class);
    }
  }

  @Test
  void canonicalOrderIsByTypeThenId() {
    try (ConfigStore store = open()) {
      store.put(upstream("u2"));
      store.put(upstream("u1"));
      store.put(route("r1", ",\"upstream_id\":\"u1\""));
      store.put(resource(ResourceType.CONSUMERS, "jack", "{\"username\":\"jack\"}"));
      store.put(resource(ResourceType.SERVICES, "s1", "{\"id\":\"s1\"}"));
      assertThat(
              store
                  .view()
                  .inCanonicalOrder()
                  .map(s -> s.resource().type().plural() + "/" + s.resource().id()))
          .containsExactly(
              "upstreams/u1", "upstreams/u2", "services/s1", "consumers/jack", "routes/r1");
    }
  }

  @Test
  void revisionsStartWithTheCurrentOneAndFollowWrites() {
    try (ConfigStore store = open()) {
      store.put(upstream("u1"));
      StepVerifier.create(store.revisions().take(3))
          .expectNext(1L)
          .then(() -> store.put(upstream("u2")))
          .expectNext(2L)
          .then(() -> store.delete(ResourceType.UPSTREAMS, "u1"))
          .expectNext(3L)
          .verifyComplete();
    }
  }

  @Test
  void aSecondOpenOfTheSameFolderIsRefused() {
    try (ConfigStore store = open()) {
      assertThatThrownBy(this::open)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("in use");
    }
    try (ConfigStore store = open()) {
      assertThat(store.revision()).isZero();
    }
  }

  @Test
  void writesAfterCloseAreRefused() {
    ConfigStore store = open();
    store.close();
    assertThatThrownBy(() -> store.put(upstream("u1")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  private static void assertSameContent(StoreView actual, StoreView expected) {
    assertThat(actual.revision()).isEqualTo(expected.revision());
    for (ResourceType type : ResourceType.values()) {
      assertThat(actual.resources(type)).isEqualTo(expected.resources(type));
    }
  }
}
