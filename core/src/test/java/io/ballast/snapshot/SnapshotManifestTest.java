package io.ballast.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.resource.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.node.ObjectNode;

class SnapshotManifestTest {

  private static final String SHA = "ab".repeat(32);

  static SnapshotManifest manifest() {
    return SnapshotManifest.of(
        "default",
        SnapshotKind.RESOURCES,
        42,
        Instant.parse("2026-01-02T03:04:05.678Z"),
        "cp-1",
        "default/resources/snapshots/00000000000000000042.ndjson.gz",
        new BodyStats(1234, SHA, Map.of("routes", 3L, "upstreams", 1L)));
  }

  @Test
  void roundTripsThroughSnakeCaseJson() {
    SnapshotManifest manifest = manifest();
    byte[] json = manifest.toJson();

    assertThat(new String(json, StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"body_key\":\"default/resources/snapshots/00000000000000000042.ndjson.gz\","
                + "\"body_sha256\":\""
                + SHA
                + "\",\"body_size\":1234,\"compression\":\"gzip\","
                + "\"counts\":{\"routes\":3,\"upstreams\":1},"
                + "\"created_at\":\"2026-01-02T03:04:05.678Z\",\"format\":1,"
                + "\"gateway_group\":\"default\",\"kind\":\"resources\",\"producer\":\"cp-1\","
                + "\"version\":42}");
    assertThat(SnapshotManifest.fromJson(json)).isEqualTo(manifest);
  }

  @Test
  void ignoresUnknownKeys() {
    ObjectNode node = (ObjectNode) Json.mapper().readTree(manifest().toJson());
    node.put("future_key", "x");

    assertThat(SnapshotManifest.fromJson(Json.mapper().writeValueAsBytes(node)))
        .isEqualTo(manifest());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "format|",
        "gateway_group|",
        "kind|",
        "version|",
        "created_at|",
        "producer|",
        "body_key|",
        "body_size|",
        "body_sha256|",
        "compression|",
        "counts|",
        "kind|\"snapshots\"",
        "created_at|\"yesterday\"",
        "version|\"42\"",
        "version|-1",
        "body_sha256|\"ABC\"",
        "compression|\"zstd\"",
        "counts|{\"routes\":-1}",
      })
  void refusesMissingOrWrongKeysNamingThem(String key, String replacement) {
    ObjectNode node = (ObjectNode) Json.mapper().readTree(manifest().toJson());
    if (replacement == null) {
      node.remove(key);
    } else {
      node.set(key, Json.mapper().readTree(replacement));
    }
    byte[] json = Json.mapper().writeValueAsBytes(node);

    assertThatThrownBy(() -> SnapshotManifest.fromJson(json))
        .isInstanceOf(SnapshotFormatException.class)
        .hasMessageContaining(
            "'" + key + (key.equals("counts") && replacement != null ? "." : "'"));
  }

  @Test
  void refusesUnknownFormatSayingWhichIsSupported() {
    ObjectNode node = (ObjectNode) Json.mapper().readTree(manifest().toJson());
    node.put("format", 2);

    assertThatThrownBy(() -> SnapshotManifest.fromJson(Json.mapper().writeValueAsBytes(node)))
        .isInstanceOf(SnapshotFormatException.class)
        .hasMessage("snapshot manifest has format 2; this build reads format 1 only");
  }

  @Test
  void refusesNonJson() {
    assertThatThrownBy(() -> SnapshotManifest.fromJson("{".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(SnapshotFormatException.class)
        .hasMessageStartingWith("snapshot manifest is not JSON");
    assertThatThrownBy(() -> SnapshotManifest.fromJson("[]".getBytes(StandardCharsets.UTF_8)))
        .hasMessage("snapshot manifest is not a JSON object");
  }
}
