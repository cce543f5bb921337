package io.ballast.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.dataplane.SnapshotApplier.Source;
import io.ballast.dataplane.StandaloneFile.Format;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Drives {@link StandaloneFileFollower#check()} by hand: no watch, no poll, no network. */
class StandaloneFileFollowerTest {

  private static final Instant MODIFIED = Instant.parse("2026-01-01T00:00:00Z");

  @TempDir Path dir;
  private Path file;
  private SnapshotApplier applier;
  private StandaloneFileFollower follower;

  @BeforeEach
  void create() {
    file = dir.resolve("apisix.yaml");
    LocalCache cache = new LocalCache(dir.resolve("cache"));
    applier = new SnapshotApplier(cache, Clock.systemUTC());
    Deployment.File settings =
        new Deployment.File(
            file, Format.YAML, Map.of("SECRET", "hunter2")::get, Duration.ofSeconds(1), "test");
    // Not started: the test drives its follower by hand.
    DataPlane dataPlane =
        new DataPlane(
            settings,
            applier,
            cache,
            new Followers(dir.resolve("work"), Clock.systemUTC()),
            Clock.systemUTC());
    follower =
        new StandaloneFileFollower(
            file,
            Format.YAML,
            dataPlane,
            dir.resolve("work"),
            Map.of("SECRET", "hunter2")::get,
            Duration.ofSeconds(1),
            "test",
            Clock.systemUTC());
  }

  private void write(String uri, boolean complete, Instant modified) throws IOException {
    Files.writeString(
        file,
        "routes:\n  - id: r\n    uri: "
            + uri
            + "\n    upstream: {nodes: {\"127.0.0.1:1980\": 1}, type: roundrobin}\n"
            + "    plugins: {key-auth: {}}\n"
            + "consumers:\n  - username: jack\n    plugins: {key-auth: {key: '${{SECRET}}'}}\n"
            + (complete ? "#END\n" : ""));
    Files.setLastModifiedTime(file, FileTime.from(modified));
  }

  private boolean routes(String uri) {
    return applier.table().match("GET", "h", uri).isPresent();
  }

  @Test
  void theFirstVersionIsTheFileModificationTime() throws IOException {
    write("/a", true, MODIFIED);

    follower.check();

    assertThat(routes("/a")).isTrue();
    assertThat(applier.version()).isEqualTo(MODIFIED.toEpochMilli());
    assertThat(applier.serving().orElseThrow().source()).isEqualTo(Source.FILE);
    assertThat(follower.lastError()).isEmpty();
  }

  @Test
  void versionsRiseEvenWhenTheModificationTimeGoesBack() throws IOException {
    write("/a", true, MODIFIED);
    follower.check();

    // A file restored from a backup carries an older time; the served version still rises.
    write("/b", true, MODIFIED.minusSeconds(3600));
    follower.check();

    assertThat(routes("/b")).isTrue();
    assertThat(applier.version()).isEqualTo(MODIFIED.toEpochMilli() + 1);
  }

  @Test
  void anEditKeepingSizeAndTimeIsStillSeen() throws IOException {
    write("/a", true, MODIFIED);
    follower.check();

    write("/b", true, MODIFIED);
    follower.check();

    assertThat(routes("/b")).isTrue();
    assertThat(routes("/a")).isFalse();
  }

  @Test
  void anUnchangedFileIsNotAppliedAgain() throws IOException {
    write("/a", true, MODIFIED);
    follower.check();
    Instant applied = applier.serving().orElseThrow().appliedAt();

    follower.check();

    assertThat(applier.serving().orElseThrow().appliedAt()).isEqualTo(applied);
    assertThat(applier.version()).isEqualTo(MODIFIED.toEpochMilli());
  }

  @Test
  void aHalfWrittenFileKeepsTheOldConfigurationUntilItIsFinished() throws IOException {
    write("/a", true, MODIFIED);
    follower.check();

    write("/b", false, MODIFIED.plusSeconds(1));
    follower.check();

    assertThat(routes("/a")).isTrue();
    assertThat(follower.lastError().orElseThrow()).contains("#END");
    assertThat(applier.lastRejection()).isEmpty();

    write("/b", true, MODIFIED.plusSeconds(2));
    follower.check();

    assertThat(routes("/b")).isTrue();
    assertThat(follower.lastError()).isEmpty();
  }

  @Test
  void anInvalidFileKeepsTheOldConfigurationAndIsReportedWithoutItsSecrets() throws IOException {
    write("/a", true, MODIFIED);
    follower.check();

    write("no-slash", true, MODIFIED.plusSeconds(1));
    follower.check();

    assertThat(routes("/a")).isTrue();
    assertThat(follower.lastError().orElseThrow())
        .startsWith(file.toAbsolutePath() + ": routes[0]: route 'r': uri")
        .doesNotContain("hunter2");
    assertThat(applier.lastRejection().orElseThrow().source()).isEqualTo(Source.FILE);
  }

  @Test
  void aFileWithAnUnknownFieldIsRefusedNamingItAndTheOldConfigurationKeepsServing()
      throws IOException {
    write("/a", true, MODIFIED);
    follower.check();

    // APISIX's schema refuses "method"; served, the route would match every method.
    Files.writeString(
        file,
        "routes:\n  - id: r\n    uri: /b\n    method: [POST]\n"
            + "    upstream: {nodes: {\"127.0.0.1:1980\": 1}, type: roundrobin}\n#END\n");
    Files.setLastModifiedTime(file, FileTime.from(MODIFIED.plusSeconds(1)));
    follower.check();

    assertThat(routes("/a")).isTrue();
    assertThat(routes("/b")).isFalse();
    assertThat(follower.lastError().orElseThrow())
        .isEqualTo(
            file.toAbsolutePath()
                + ": routes[0]: route 'r': unknown field 'method'; did you mean 'methods'?");
  }

  @Test
  void aMissingFileServesNothingAndSaysSo() {
    follower.check();

    assertThat(applier.serving()).isEqualTo(Optional.empty());
    assertThat(follower.lastError().orElseThrow()).endsWith("file not found");
  }
}
