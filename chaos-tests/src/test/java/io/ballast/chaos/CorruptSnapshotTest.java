package io.ballast.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.chaos.ClusterFixture.ControlPlane;
import io.ballast.chaos.ClusterFixture.DataPlane;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** A data plane never applies a snapshot whose body does not match the manifest's SHA-256. */
class CorruptSnapshotTest {

  private static final Duration NOT_READY_WINDOW = Duration.ofSeconds(3);

  @TempDir Path tmp;

  private FilesystemStorage storage;
  private ClusterFixture cluster;

  @AfterEach
  void killNodes() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void standaloneDataPlaneRefusesCorruptSnapshotBody() throws IOException {
    storage = FilesystemStorage.create(tmp.resolve("storage"));
    cluster = new ClusterFixture(tmp, storage);
    ControlPlane cp = cluster.controlPlane("cp");
    cp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    Http.Response created = cp.admin().putRoute("ip", "/ip", cluster.upstream().hostPort());
    assertThat(created.isSuccess()).as("PUT route ip: %s", created).isTrue();
    long exported = cp.awaitExported();
    cp.node().kill();

    Path body = snapshotBody(exported);
    assertThat(body).as(cluster.describeStorage()).isRegularFile();
    flipOneBodyByte(body);

    DataPlane dp = cluster.standaloneDataPlane("dp-standalone");
    dp.node().start();
    JsonNode refused =
        Await.until(
            "the standalone data plane to report the checksum mismatch",
            ClusterFixture.START_TIMEOUT,
            ClusterFixture.POLL,
            () -> {
              JsonNode status = dp.node().status();
              String problems =
                  (status.path("last_rejection").toString()
                          + " "
                          + status.at("/storage/backends/0/last_error").toString())
                      .toLowerCase(Locale.ROOT);
              return problems.contains("checksum")
                      || problems.contains("sha256")
                      || problems.contains("sha-256")
                  ? Optional.of(status)
                  : Optional.empty();
            },
            () -> dp.node().describeLog(40));
    System.out.println("[corrupt-snapshot] refused: " + refused);

    long windowEnd = System.nanoTime() + NOT_READY_WINDOW.toNanos();
    while (System.nanoTime() - windowEnd < 0) {
      Http.Response ready = Http.get(dp.node().statusUrl() + "/ready");
      assertThat(ready.status())
          .as("%s /status/ready: %s\n%s", dp.node().name(), ready, dp.node().describeLog(40))
          .isEqualTo(503);
      Await.sleep(Duration.ofMillis(100));
    }
    Http.Response proxied = Http.get(dp.url("/ip"));
    assertThat(proxied.status()).as("proxy /ip: %s", proxied).isEqualTo(404);
  }

  /**
   * {@code <storage>/<resource bucket>/default/resources/snapshots/<20-digit version>-<SHA-256>
   * .ndjson.gz}
   */
  private Path snapshotBody(long version) throws IOException {
    Path folder =
        storage.dir().resolve(Configs.RESOURCE_BUCKET).resolve("default/resources/snapshots");
    String prefix = "%020d-".formatted(version);
    try (Stream<Path> files = Files.list(folder)) {
      return files
          .filter(file -> file.getFileName().toString().startsWith(prefix))
          .reduce(
              (a, b) -> {
                throw new IllegalStateException("two bodies of version " + version + ": " + a + b);
              })
          .orElseThrow(() -> new IllegalStateException("no body of version " + version));
    }
  }

  /**
   * The filesystem backend stores an object as one file: a {@code BALLAST-OBJECT 1 {...}} header
   * line, then the body. Flip one byte of the body, leaving the header (and its metadata) intact.
   */
  private static void flipOneBodyByte(Path object) throws IOException {
    byte[] bytes = Files.readAllBytes(object);
    int newline = 0;
    while (newline < bytes.length && bytes[newline] != '\n') {
      newline++;
    }
    assertThat(new String(bytes, 0, Math.min(newline, 14), StandardCharsets.UTF_8))
        .as("header of %s", object)
        .isEqualTo("BALLAST-OBJECT");
    int target = newline + 1 + (bytes.length - newline - 1) / 2;
    assertThat(target).as("body byte to flip in %s", object).isLessThan(bytes.length);
    bytes[target] ^= (byte) 0xFF;
    Files.write(object, bytes);
  }
}
