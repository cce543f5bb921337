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

class ExportManifestTest {

  static final Instant CREATED = Instant.parse("2026-01-02T03:04:05.678Z");

  /** An export of version {@code version} with {@code routes} routes. */
  static ExportManifest export(long version, long routes) {
    ExportLayout layout = new ExportLayout("", "default");
    return new ExportManifest(
        "default",
        "3f2c1e0a-5b6d-4c7e-8f90-a1b2c3d4e5f6",
        version,
        version - 1,
        false,
        CREATED,
        "cp-1",
        Map.of(
            SnapshotKind.RESOURCES,
            part(layout, SnapshotKind.RESOURCES, version, Map.of("routes", routes)),
            SnapshotKind.INSTANCE,
            part(layout, SnapshotKind.INSTANCE, version, Map.of())),
        CREATED.plusSeconds(1),
        CREATED.plusSeconds(901));
  }

  private static SnapshotManifest part(
      ExportLayout layout, SnapshotKind kind, long version, Map<String, Long> counts) {
    BodyStats stats =
        new BodyStats(100 + kind.ordinal(), (kind.ordinal() + "a").repeat(32), counts);
    return SnapshotManifest.of(
        "default",
        kind,
        version,
        CREATED,
        "cp-1",
        layout.bodyKey(kind, version, stats.sha256Hex()).value(),
        stats);
  }

  @Test
  void roundTripsThroughSnakeCaseJson() {
    ExportManifest manifest = export(42, 3);
    byte[] json = manifest.toJson();

    String text = new String(json, StandardCharsets.UTF_8);
    assertThat(text)
        .startsWith("{\"created_at\":\"2026-01-02T03:04:05.678Z\",")
        .contains("\"format\":2,\"gateway_group\":\"default\",\"lineage\":\"3f2c1e0a-")
        .contains("\"parts\":{\"instance\":{\"body_key\":\"default/instance/snapshots/")
        .contains(",\"resources\":{\"body_key\":\"default/resources/snapshots/")
        .contains("\"previous_version\":41,\"producer\":\"cp-1\",\"shrink_confirmed\":false")
        .contains("\"signed_at\":\"2026-01-02T03:04:06.678Z\"")
        .endsWith("\"version\":42}");
    assertThat(ExportManifest.fromJson(json)).isEqualTo(manifest);
    assertThat(manifest.routes()).isEqualTo(3);
    assertThat(manifest.part(SnapshotKind.INSTANCE).version()).isEqualTo(42);
  }

  @Test
  void resignedChangesOnlyTheSigningTimes() {
    ExportManifest manifest = export(42, 3);
    Instant later = CREATED.plusSeconds(60);

    ExportManifest resigned = manifest.resigned(later, later.plusSeconds(900));

    assertThat(resigned.signedAt()).isEqualTo(later);
    assertThat(resigned.expiresAt()).isEqualTo(later.plusSeconds(900));
    assertThat(resigned.resigned(manifest.signedAt(), manifest.expiresAt())).isEqualTo(manifest);
    assertThat(resigned.expiredAt(later.plusSeconds(900))).isFalse();
    assertThat(resigned.expiredAt(later.plusSeconds(901))).isTrue();
  }

  @Test
  void ignoresUnknownKeys() {
    ObjectNode node = (ObjectNode) Json.mapper().readTree(export(42, 3).toJson());
    node.put("future_key", "x");

    assertThat(ExportManifest.fromJson(Json.mapper().writeValueAsBytes(node)))
        .isEqualTo(export(42, 3));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "format|",
        "gateway_group|",
        "lineage|",
        "version|",
        "previous_version|",
        "shrink_confirmed|",
        "created_at|",
        "producer|",
        "parts|",
        "signed_at|",
        "expires_at|",
        "version|-1",
        "previous_version|42",
        "previous_version|-2",
        "shrink_confirmed|\"no\"",
        "expires_at|\"tomorrow\"",
        "parts|[]",
      })
  void refusesMissingOrWrongKeysNamingThem(String key, String replacement) {
    ObjectNode node = (ObjectNode) Json.mapper().readTree(export(42, 3).toJson());
    if (replacement == null) {
      node.remove(key);
    } else {
      node.set(key, Json.mapper().readTree(replacement));
    }
    byte[] json = Json.mapper().writeValueAsBytes(node);

    assertThatThrownBy(() -> ExportManifest.fromJson(json))
        .isInstanceOf(SnapshotFormatException.class)
        .hasMessageContaining(key.equals("format") ? "'format'" : "key '" + key + "'");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "instance|version|41|parts.instance.version",
        "resources|kind|\"instance\"|parts.resources.kind",
        "resources|gateway_group|\"other\"|parts.resources.gateway_group",
        "instance|body_sha256|\"XYZ\"|parts.instance.body_sha256",
      })
  void refusesPartsThatDoNotBelongToTheExport(
      String kind, String key, String replacement, String named) {
    ObjectNode node = (ObjectNode) Json.mapper().readTree(export(42, 3).toJson());
    ((ObjectNode) node.get("parts").get(kind)).set(key, Json.mapper().readTree(replacement));

    assertThatThrownBy(() -> ExportManifest.fromJson(Json.mapper().writeValueAsBytes(node)))
        .isInstanceOf(SnapshotFormatException.class)
        .hasMessageContaining("export manifest key '" + named + "'");
  }

  @Test
  void refusesAnExportMissingAPart() {
    ObjectNode node = (ObjectNode) Json.mapper().readTree(export(42, 3).toJson());
    ((ObjectNode) node.get("parts")).remove("instance");

    assertThatThrownBy(() -> ExportManifest.fromJson(Json.mapper().writeValueAsBytes(node)))
        .isInstanceOf(SnapshotFormatException.class)
        .hasMessage("export manifest key 'parts.instance' is missing or not an object");
  }

  @Test
  void refusesFormatOneAndNonJson() {
    assertThatThrownBy(() -> ExportManifest.fromJson(SnapshotManifestTest.manifest().toJson()))
        .isInstanceOf(SnapshotFormatException.class)
        .hasMessage("export manifest has format 1; this build reads format 2");
    assertThatThrownBy(() -> ExportManifest.fromJson("{".getBytes(StandardCharsets.UTF_8)))
        .hasMessageStartingWith("export manifest is not JSON");
  }

  @Test
  void layoutPutsThePointerAboveBothParts() {
    ExportLayout layout = new ExportLayout("p/q", "g1");

    assertThat(layout.latestKey().value()).isEqualTo("p/q/g1/latest.json");
    String sha = "0123456789abcdef".repeat(4);
    assertThat(layout.bodyKey(SnapshotKind.INSTANCE, 7, sha).value())
        .isEqualTo("p/q/g1/instance/snapshots/00000000000000000007-" + sha + ".ndjson.gz");
    assertThat(new ExportLayout(null, "g1").latestKey().value()).isEqualTo("g1/latest.json");
    assertThatThrownBy(() -> new ExportLayout("", "a/b"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
