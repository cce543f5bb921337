package io.ballast.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ballast.controlplane.LineageCheck.State;
import io.ballast.controlplane.StorageExports.ExportPointer;
import io.ballast.controlplane.store.ConfigStore;
import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Each case of the check against a store on disk and a storage whose newest export the test sets.
 * {@code LineageCheckStorageTest} runs the same decisions against exports in filesystem storage.
 */
class LineageCheckTest {

  private static final String STORAGE_LINEAGE = "9d1c1a6e-0000-4000-8000-00000000000a";

  @TempDir Path dir;
  private ConfigStore store;
  private final FakeStorage storage = new FakeStorage();
  private final Gate gate = new Gate();
  private final AtomicInteger imports = new AtomicInteger();
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private LineageCheck check;

  @BeforeEach
  void open() {
    store = ConfigStore.open(dir.resolve("store"));
    logs.start();
    ((Logger) LoggerFactory.getLogger(LineageCheck.class)).addAppender(logs);
  }

  @AfterEach
  void close() {
    ((Logger) LoggerFactory.getLogger(LineageCheck.class)).detachAppender(logs);
    if (check != null) {
      check.close();
    }
    store.close();
  }

  private LineageCheck check(LineageChoice choice) {
    check =
        new LineageCheck(
            store,
            storage,
            "default",
            choice,
            imports::incrementAndGet,
            Duration.ofMillis(20),
            Duration.ofMillis(50),
            Clock.systemUTC());
    check.gate(gate);
    return check;
  }

  private static Resource upstream(String id) {
    return Resource.parse(
        ResourceType.UPSTREAMS, id, Json.mapper().readTree("{\"nodes\":{\"127.0.0.1:1980\":1}}"));
  }

  private static ResourceSet set(String... upstreamIds) {
    ResourceSet.Builder builder = ResourceSet.builder();
    for (String id : upstreamIds) {
      builder.add(upstream(id));
    }
    return builder.build();
  }

  private List<String> warnings() {
    return logs.list.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  @Test
  void emptyStorageLeavesTheStoreAsItIs() {
    store.put(upstream("mine"));
    check(LineageChoice.UNDECIDED).start();
    assertThat(check.state()).isEqualTo(State.IN_STEP);
    assertThat(gate.paused).isFalse();
    assertThat(store.revision()).isEqualTo(1);
    assertThat(imports).hasValue(0);
  }

  @Test
  void sameLineageAtOrAboveStorageIsInStep() {
    storage.export(store.lineage(), 2, set("a"));
    store.put(upstream("a"));
    store.put(upstream("b"));
    check(LineageChoice.UNDECIDED).start();
    assertThat(check.state()).isEqualTo(State.IN_STEP);
    assertThat(gate.paused).isFalse();
    assertThat(store.view().resources(ResourceType.UPSTREAMS)).containsOnlyKeys("a", "b");
    assertThat(warnings()).isEmpty();
  }

  @Test
  void anEmptyStoreImportsStoragesExportAndContinuesAboveIt() {
    storage.export(STORAGE_LINEAGE, 10, set("a", "b"));
    check(LineageChoice.UNDECIDED).start();

    assertThat(check.state()).isEqualTo(State.IMPORTED);
    assertThat(gate.paused).isFalse();
    assertThat(store.revision()).isEqualTo(10);
    assertThat(store.lineage()).isEqualTo(STORAGE_LINEAGE);
    assertThat(store.view().resources(ResourceType.UPSTREAMS)).containsOnlyKeys("a", "b");
    assertThat(store.put(upstream("c")).modifiedIndex()).isEqualTo(11);
    assertThat(imports).hasValue(1);
    assertThat(warnings())
        .singleElement()
        .asString()
        .contains("empty")
        .contains("version 10 of lineage " + STORAGE_LINEAGE)
        .contains("writes continue from revision 11");
  }

  @Test
  void aStoreBehindInTheSameLineageImportsStoragesExport() {
    // A store restored from a backup taken at revision 1, while storage went on to 5.
    store.put(upstream("old"));
    storage.export(store.lineage(), 5, set("old", "new"));
    check(LineageChoice.UNDECIDED).start();
    assertThat(check.state()).isEqualTo(State.IMPORTED);
    assertThat(store.revision()).isEqualTo(5);
    assertThat(store.view().resources(ResourceType.UPSTREAMS)).containsOnlyKeys("old", "new");
    assertThat(warnings()).singleElement().asString().contains("behind");
  }

  @Test
  void aForeignStorePausesExportsAndSaysWhichFlagDecides() {
    store.put(upstream("mine"));
    storage.export(STORAGE_LINEAGE, 10, set("theirs"));
    check(LineageChoice.UNDECIDED).start();

    assertThat(check.state()).isEqualTo(State.PAUSED);
    assertThat(gate.paused).isTrue();
    assertThat(gate.reason).contains("--lineage=storage").contains("--lineage=store");
    assertThat(store.view().resources(ResourceType.UPSTREAMS)).containsOnlyKeys("mine");
    assertThat(check.status())
        .containsEntry("state", "paused")
        .containsEntry("exports", "paused")
        .containsEntry("storage_lineage", STORAGE_LINEAGE)
        .containsEntry("storage_version", 10L)
        .containsEntry("store_lineage", store.lineage());
    assertThat(warnings()).singleElement().asString().contains("--lineage=storage");
  }

  @Test
  void lineageStorageReplacesAForeignStore() {
    store.put(upstream("mine"));
    storage.export(STORAGE_LINEAGE, 10, set("theirs"));
    check(LineageChoice.STORAGE).start();
    assertThat(check.state()).isEqualTo(State.IMPORTED);
    assertThat(gate.paused).isFalse();
    assertThat(store.lineage()).isEqualTo(STORAGE_LINEAGE);
    assertThat(store.revision()).isEqualTo(10);
    assertThat(store.view().resources(ResourceType.UPSTREAMS)).containsOnlyKeys("theirs");
  }

  @Test
  void lineageStorageNumbersTheImportAboveAForeignStoreThatCountedFurther() {
    // Data planes that followed this CP hold its revision 12: the import must come above it.
    for (int i = 0; i < 12; i++) {
      store.put(upstream("mine" + i));
    }
    storage.export(STORAGE_LINEAGE, 4, set("theirs"));
    check(LineageChoice.STORAGE).start();
    assertThat(store.revision()).isEqualTo(13);
    assertThat(store.lineage()).isEqualTo(STORAGE_LINEAGE);
    assertThat(store.view().resources(ResourceType.UPSTREAMS)).containsOnlyKeys("theirs");
  }

  @Test
  void lineageStoreKeepsTheStoreAndNumbersItAboveStorage() {
    store.put(upstream("mine"));
    String own = store.lineage();
    storage.export(STORAGE_LINEAGE, 10, set("theirs"));
    check(LineageChoice.STORE).start();
    assertThat(check.state()).isEqualTo(State.STORE_KEPT);
    assertThat(gate.paused).isFalse();
    assertThat(store.lineage()).isEqualTo(own);
    assertThat(store.revision()).isEqualTo(11);
    assertThat(store.view().resources(ResourceType.UPSTREAMS)).containsOnlyKeys("mine");
    assertThat(store.put(upstream("next")).modifiedIndex()).isEqualTo(12);
  }

  @Test
  void aFlagIsIgnoredWhenThereIsNoConflict() {
    storage.export(STORAGE_LINEAGE, 3, set("theirs"));
    check(LineageChoice.STORE).start();
    assertThat(check.state())
        .as("an empty store imports whatever the flag")
        .isEqualTo(State.IMPORTED);
    assertThat(store.lineage()).isEqualTo(STORAGE_LINEAGE);
  }

  @Test
  void unreadableStorageKeepsExportsPausedAndRetriesUntilItAnswers() throws Exception {
    storage.failing = true;
    storage.export(STORAGE_LINEAGE, 10, set("a"));
    check(LineageChoice.UNDECIDED).start();
    assertThat(check.state()).isEqualTo(State.CHECKING);
    assertThat(gate.paused).isTrue();
    assertThat(gate.reason).contains("cannot be read").contains("storage is down");
    assertThat(store.revision()).isZero();

    Thread.sleep(200); // several retries, all failing
    assertThat(storage.reads.get()).isGreaterThan(2);
    assertThat(gate.paused).isTrue();

    storage.failing = false;
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (check.state() == State.CHECKING && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(check.state()).isEqualTo(State.IMPORTED);
    assertThat(gate.paused).isFalse();
    assertThat(store.revision()).isEqualTo(10);
  }

  @Test
  void aWriteWhileStorageWasUnreadableIsNeverOverwritten() throws Exception {
    storage.failing = true;
    storage.export(STORAGE_LINEAGE, 10, set("theirs"));
    check(LineageChoice.UNDECIDED).start();
    store.put(upstream("written-meanwhile"));
    storage.failing = false;
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (check.state() == State.CHECKING && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(check.state()).isEqualTo(State.PAUSED);
    assertThat(store.view().resources(ResourceType.UPSTREAMS))
        .containsOnlyKeys("written-meanwhile");
  }

  /** A storage with at most one export; it fails every read while {@code failing}. */
  private static final class FakeStorage implements StorageExports {
    volatile boolean failing;
    final AtomicInteger reads = new AtomicInteger();
    private volatile ExportPointer pointer;
    private volatile ResourceSet resources;

    void export(String lineage, long version, ResourceSet content) {
      pointer = new ExportPointer(lineage, version);
      resources = content;
    }

    @Override
    public Optional<ExportPointer> newest() {
      reads.incrementAndGet();
      if (failing) {
        throw new IllegalStateException("storage is down");
      }
      return Optional.ofNullable(pointer);
    }

    @Override
    public ResourceSet resources(ExportPointer requested) {
      assertThat(requested).isEqualTo(pointer);
      return resources;
    }
  }

  private static final class Gate implements LineageCheck.ExportGate {
    volatile boolean paused;
    volatile String reason;
    final List<String> calls = new ArrayList<>();

    @Override
    public synchronized void pause(String why) {
      paused = true;
      reason = why;
      calls.add("pause");
    }

    @Override
    public synchronized void resume() {
      paused = false;
      calls.add("resume");
    }
  }
}
