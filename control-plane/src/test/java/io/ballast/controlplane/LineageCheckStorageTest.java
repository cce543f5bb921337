package io.ballast.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.controlplane.LineageCheck.State;
import io.ballast.controlplane.store.ConfigStore;
import io.ballast.resource.ResourceType;
import io.ballast.snapshot.ExportFetcher;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.ExportPublisher;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SnapshotSigner;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.storage.filesystem.FilesystemBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lineage check against real exports in filesystem storage: written by one control plane's
 * builder and publisher, read back (signature, then bodies) by another's check.
 */
class LineageCheckStorageTest {

  private static final ExportLayout LAYOUT = new ExportLayout("", "default");

  @TempDir Path dir;
  private final SnapshotSigner signer = TestBuilders.signer();
  private FilesystemBackend storage;
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeEach
  void storage() throws Exception {
    Files.createDirectories(dir.resolve("storage/resources"));
    Files.createDirectories(dir.resolve("storage/config"));
    storage = new FilesystemBackend(dir.resolve("storage"));
  }

  @AfterEach
  void close() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private ConfigStore store(String name) {
    ConfigStore store = ConfigStore.open(dir.resolve(name));
    open.add(store);
    return store;
  }

  /** Builds the store's newest export with its own lineage and publishes it to storage. */
  private ExportManifest export(ConfigStore store) throws Exception {
    return export(store, Optional.empty());
  }

  /**
   * As {@link #export(ConfigStore)}, replacing an export of {@code replaceable} in storage, as a CP
   * started with {@code --lineage=store} does.
   */
  private ExportManifest export(ConfigStore store, Optional<String> replaceable) throws Exception {
    SnapshotBuilder builder =
        new SnapshotBuilder(
            store,
            Files.createTempDirectory(dir, "build"),
            LAYOUT,
            "cp-test",
            store::lineage,
            signer,
            TestBuilders.EXPIRE_AFTER,
            Clock.systemUTC());
    try {
      builder.start(List.of());
      VerifiedExport export = TestBuilders.awaitVersion(builder, store.revision());
      new ExportPublisher(
              storage.bucket("resources"),
              storage.bucket("config"),
              LAYOUT,
              3,
              signer,
              TestBuilders.EXPIRE_AFTER,
              Clock.systemUTC())
          .publish(export, replaceable)
          .block(Duration.ofSeconds(5));
      return export.manifest();
    } finally {
      builder.close();
    }
  }

  private LineageCheck check(ConfigStore store, LineageChoice choice, SnapshotSigner trusted) {
    ExportFetcher fetcher =
        new ExportFetcher(
            storage.bucket("resources"),
            storage.bucket("config"),
            LAYOUT,
            SignatureVerifier.trusting(List.of(trusted.publicKey())));
    LineageCheck check =
        new LineageCheck(
            store,
            new FetchedExports(fetcher, dir.resolve("downloads"), Duration.ofSeconds(5)),
            "default",
            choice,
            () -> {},
            Duration.ofMillis(20),
            Duration.ofMillis(100),
            Clock.systemUTC());
    open.add(check);
    check.start();
    return check;
  }

  private LineageCheck check(ConfigStore store, LineageChoice choice) {
    return check(store, choice, signer);
  }

  private static void write(ConfigStore store, int upstreams, String prefix) {
    for (int i = 0; i < upstreams; i++) {
      TestBuilders.writeUpstream(store, prefix + i);
    }
  }

  @Test
  void noExportInStorageIsNothingToReconcile() {
    ConfigStore store = store("store");
    write(store, 2, "u");
    assertThat(check(store, LineageChoice.UNDECIDED).state()).isEqualTo(State.IN_STEP);
    assertThat(store.revision()).isEqualTo(2);
  }

  @Test
  void theStoreThatExportedIsInStep() throws Exception {
    ConfigStore store = store("store");
    write(store, 3, "u");
    export(store);
    assertThat(check(store, LineageChoice.UNDECIDED).state()).isEqualTo(State.IN_STEP);
  }

  @Test
  void aWipedStoreImportsTheNewestExportAndItsNextExportIsAboveIt() throws Exception {
    ConfigStore before = store("before");
    write(before, 10, "u");
    ExportManifest exported = export(before);
    assertThat(exported.version()).isEqualTo(10);

    ConfigStore wiped = store("wiped");
    LineageCheck check = check(wiped, LineageChoice.UNDECIDED);
    assertThat(check.state()).isEqualTo(State.IMPORTED);
    assertThat(wiped.lineage()).isEqualTo(before.lineage());
    assertThat(wiped.revision()).isEqualTo(10);
    for (var stored : before.view().resources(ResourceType.UPSTREAMS).values()) {
      assertThat(wiped.get(ResourceType.UPSTREAMS, stored.resource().id()).orElseThrow().resource())
          .isEqualTo(stored.resource());
    }
    assertThat(wiped.view().size()).isEqualTo(before.view().size());
    TestBuilders.writeUpstream(wiped, "after");
    ExportManifest next = export(wiped);
    assertThat(next.version()).isEqualTo(11);
    assertThat(next.lineage()).isEqualTo(before.lineage());
    assertThat(Files.list(dir.resolve("downloads")).toList()).as("downloads removed").isEmpty();
  }

  @Test
  void aStoreRestoredFromAnOlderBackupImportsTheNewerExportOfItsLineage() throws Exception {
    ConfigStore live = store("live");
    write(live, 2, "old");
    Path backup = dir.resolve("backup");
    copyFolder(dir.resolve("live"), backup);
    write(live, 3, "new");
    export(live);

    ConfigStore restored = store("backup");
    assertThat(restored.lineage()).isEqualTo(live.lineage());
    assertThat(restored.revision()).isEqualTo(2);
    LineageCheck check = check(restored, LineageChoice.UNDECIDED);
    assertThat(check.state()).isEqualTo(State.IMPORTED);
    assertThat(restored.revision()).isEqualTo(5);
    assertThat(restored.view().resources(ResourceType.UPSTREAMS)).hasSize(5);
  }

  @Test
  void aForeignStoreIsPausedUntilTheOperatorDecides() throws Exception {
    ConfigStore theirs = store("theirs");
    write(theirs, 10, "theirs");
    export(theirs);
    ConfigStore mine = store("mine");
    write(mine, 2, "mine");

    LineageCheck check = check(mine, LineageChoice.UNDECIDED);
    assertThat(check.state()).isEqualTo(State.PAUSED);
    assertThat(check.status().get("detail").toString())
        .contains("lineage " + mine.lineage())
        .contains("lineage " + theirs.lineage())
        .contains("--lineage=storage")
        .contains("--lineage=store");
    assertThat(mine.revision()).isEqualTo(2);
  }

  @Test
  void lineageStoreExportsTheStoreAboveStorageAndItsLineageReplacesStorages() throws Exception {
    ConfigStore theirs = store("theirs");
    write(theirs, 10, "theirs");
    export(theirs);
    ConfigStore mine = store("mine");
    write(mine, 2, "mine");

    LineageCheck kept = check(mine, LineageChoice.STORE);
    assertThat(kept.state()).isEqualTo(State.STORE_KEPT);
    assertThat(kept.replaceableLineage()).contains(theirs.lineage());
    ExportManifest next = export(mine, kept.replaceableLineage());
    assertThat(next.version()).isEqualTo(11);
    assertThat(next.lineage()).isEqualTo(mine.lineage());

    // The next start finds storage in the store's lineage: nothing left to decide.
    assertThat(check(mine, LineageChoice.UNDECIDED).state()).isEqualTo(State.IN_STEP);
  }

  @Test
  void lineageStorageReplacesAForeignStoreWithStoragesExport() throws Exception {
    ConfigStore theirs = store("theirs");
    write(theirs, 10, "theirs");
    export(theirs);
    ConfigStore mine = store("mine");
    write(mine, 2, "mine");

    assertThat(check(mine, LineageChoice.STORAGE).state()).isEqualTo(State.IMPORTED);
    assertThat(mine.lineage()).isEqualTo(theirs.lineage());
    assertThat(mine.revision()).isEqualTo(10);
    assertThat(mine.view().resources(ResourceType.UPSTREAMS)).hasSize(10).containsKey("theirs0");
  }

  @Test
  void anExportSignedByAKeyTheControlPlaneDoesNotTrustIsNeverImported() throws Exception {
    ConfigStore theirs = store("theirs");
    write(theirs, 3, "theirs");
    export(theirs);
    ConfigStore wiped = store("wiped");

    LineageCheck check = check(wiped, LineageChoice.UNDECIDED, TestBuilders.signer());
    Thread.sleep(200); // retried, never trusted
    assertThat(check.state()).isEqualTo(State.CHECKING);
    assertThat(check.exportsAllowed()).isFalse();
    assertThat(check.status().get("detail").toString()).contains("not trusted");
    assertThat(wiped.revision()).isZero();
  }

  private static void copyFolder(Path from, Path to) throws Exception {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path file : files.toList()) {
        if (!file.getFileName().toString().equals("store.lock")) {
          Files.copy(file, to.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }
}
