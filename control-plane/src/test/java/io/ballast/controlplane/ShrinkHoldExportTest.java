package io.ballast.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.controlplane.store.ConfigStore;
import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.ShrinkGuard;
import io.ballast.snapshot.SnapshotSigner;
import io.ballast.snapshot.VerifiedExport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CP holds an export that removes too much: the conf server and storage keep the last one. */
class ShrinkHoldExportTest {

  @TempDir Path dir;
  private final SnapshotSigner signer = TestBuilders.signer();
  private ConfigStore store;
  private SnapshotBuilder builder;

  private void start(ShrinkGuard guard) {
    if (store == null) {
      store = ConfigStore.open(dir.resolve("store"));
    }
    builder = TestBuilders.builder(store, dir.resolve("work"), signer);
    builder.guardShrinks(guard);
    builder.start(List.of());
  }

  @AfterEach
  void stop() {
    builder.close();
    store.close();
  }

  private void putRoute(String id) {
    store.put(
        Resource.parse(
            ResourceType.ROUTES,
            id,
            Json.mapper()
                .readTree(
                    "{\"uri\":\"/"
                        + id
                        + "\",\"upstream\":{\"nodes\":{\"127.0.0.1:1980\":1},"
                        + "\"type\":\"roundrobin\"}}")));
  }

  private long built() {
    return builder.current().map(VerifiedExport::version).orElse(-1L);
  }

  private ExportManifest manifest() {
    return builder.current().orElseThrow().manifest();
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  @Test
  void removingEveryRouteIsHeldUntilAnOperatorConfirmsItThenGoesOutSigned() throws Exception {
    start(ShrinkGuard.DEFAULT);
    putRoute("r1");
    await("export 1 built", () -> built() == 1);
    assertThat(manifest().shrinkConfirmed()).isFalse();

    store.delete(ResourceType.ROUTES, "r1");
    await("export 2 held", () -> builder.shrinkHold().holding());
    assertThat(built()).as("the last good export stays on offer").isEqualTo(1);
    assertThat(builder.shrinkHold().heldTotal()).isEqualTo(1);

    store.confirmShrink();
    await("the confirmed export built", () -> built() == 3);
    assertThat(manifest().routes()).isZero();
    assertThat(manifest().shrinkConfirmed()).isTrue();
    assertThat(manifest().previousVersion()).as("follows the last export out").isEqualTo(1);
    assertThat(builder.shrinkHold().holding()).isFalse();
    assertThat(builder.shrinkHold().status().get("held")).isNull();

    putRoute("r2");
    await("export 4 built", () -> built() == 4);
    assertThat(manifest().shrinkConfirmed()).as("a confirmation covers one export").isFalse();
  }

  @Test
  void aWriteConfirmedOnTheAdminApiGoesOutAtOnce() throws Exception {
    start(ShrinkGuard.parse("0%"));
    putRoute("r1");
    putRoute("r2");
    await("export 2 built", () -> built() == 2);

    store.delete(ResourceType.ROUTES, "r1", true);
    await("the confirmed delete built", () -> built() == 3);
    assertThat(manifest().shrinkConfirmed()).isTrue();
    assertThat(builder.shrinkHold().heldTotal()).isZero();

    store.delete(ResourceType.ROUTES, "r2");
    await("an unconfirmed delete held", () -> builder.shrinkHold().holding());
    assertThat(built()).isEqualTo(3);
  }

  @Test
  void aStoreEmptiedWhileTheCpWasDownIsHeldAfterTheRestart() throws Exception {
    start(ShrinkGuard.DEFAULT);
    putRoute("r1");
    putRoute("r2");
    await("export 2 built", () -> built() == 2);
    builder.close();

    store.delete(ResourceType.ROUTES, "r1");
    store.delete(ResourceType.ROUTES, "r2");
    start(ShrinkGuard.DEFAULT);

    await("the first export after the restart held", () -> builder.shrinkHold().holding());
    assertThat(builder.current()).isEmpty();
  }

  @Test
  void aGuardTurnedOffHoldsNothing() throws Exception {
    start(ShrinkGuard.OFF);
    putRoute("r1");
    await("export 1 built", () -> built() == 1);
    store.delete(ResourceType.ROUTES, "r1");
    await("export 2 built", () -> built() == 2);
    assertThat(builder.shrinkHold().heldTotal()).isZero();
  }
}
