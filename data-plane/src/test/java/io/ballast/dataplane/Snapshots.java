package io.ballast.dataplane;

import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import io.ballast.snapshot.BodyStats;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.SignedExport;
import io.ballast.snapshot.SnapshotBodyWriter;
import io.ballast.snapshot.SnapshotContent;
import io.ballast.snapshot.SnapshotEntry;
import io.ballast.snapshot.SnapshotFiles;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.snapshot.VerifiedSnapshot;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** Snapshot files on disk for the data-plane tests. */
final class Snapshots {

  static final String GROUP = "default";
  static final String LINEAGE = "9d1e5b7a-3c2f-4a8e-b6d0-7f4e2a1c9b35";
  static final String UPSTREAM = "{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:1980\":1}}";

  private Snapshots() {}

  static Resource resource(ResourceType type, String id, String json) {
    return Resource.parse(type, id, Json.mapper().readTree(json));
  }

  /** Upstream {@code u1} and route {@code r1} for GET on host {@code h} at {@code uri}. */
  static ResourceSet routeTo(String uri) {
    return ResourceSet.builder()
        .add(resource(ResourceType.UPSTREAMS, "u1", UPSTREAM))
        .add(
            resource(
                ResourceType.ROUTES,
                "r1",
                "{\"uri\":\""
                    + uri
                    + "\",\"host\":\"h\",\"methods\":[\"GET\"],"
                    + "\"upstream_id\":\"u1\"}"))
        .build();
  }

  /**
   * An unsigned export of {@code set} as version {@code version} with an empty instance part, its
   * bodies in {@code dir}.
   */
  static VerifiedExport resources(Path dir, long version, ResourceSet set) {
    Path body = dir.resolve("resources-" + version + "-" + System.nanoTime() + ".ndjson.gz");
    BodyStats stats = SnapshotContent.writeResources(set, body);
    return export(version, body, stats, dir);
  }

  /**
   * An export whose {@code kind} part holds any entries, valid or not, in canonical order (the
   * other part empty).
   */
  static VerifiedExport raw(
      Path dir, SnapshotKind kind, long version, List<SnapshotEntry> entries) {
    Path body = write(dir, kind, version, entries);
    if (kind == SnapshotKind.RESOURCES) {
      return export(version, body, SnapshotFiles.digest(body), dir);
    }
    Path resources = write(dir, SnapshotKind.RESOURCES, version, List.of());
    return export(
        version,
        resources,
        SnapshotFiles.digest(resources),
        Map.of(
            SnapshotKind.INSTANCE,
            new VerifiedSnapshot(
                part(SnapshotKind.INSTANCE, version, SnapshotFiles.digest(body)), body)));
  }

  private static Path write(
      Path dir, SnapshotKind kind, long version, List<SnapshotEntry> entries) {
    Path body = dir.resolve(kind.id() + "-" + version + "-" + System.nanoTime() + ".ndjson.gz");
    try (OutputStream out = Files.newOutputStream(body);
        SnapshotBodyWriter writer = new SnapshotBodyWriter(out)) {
      entries.forEach(writer::write);
      writer.finish();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return body;
  }

  static SnapshotEntry entry(String type, String id, String json) {
    return new SnapshotEntry(type, id, Json.mapper().readTree(json));
  }

  private static VerifiedExport export(long version, Path resources, BodyStats stats, Path dir) {
    Path instance = write(dir, SnapshotKind.INSTANCE, version, List.of());
    return export(
        version,
        resources,
        stats,
        Map.of(
            SnapshotKind.INSTANCE,
            new VerifiedSnapshot(
                part(SnapshotKind.INSTANCE, version, SnapshotFiles.digest(instance)), instance)));
  }

  private static VerifiedExport export(
      long version, Path resources, BodyStats stats, Map<SnapshotKind, VerifiedSnapshot> others) {
    Map<SnapshotKind, VerifiedSnapshot> parts = new EnumMap<>(SnapshotKind.class);
    parts.putAll(others);
    parts.put(
        SnapshotKind.RESOURCES,
        new VerifiedSnapshot(part(SnapshotKind.RESOURCES, version, stats), resources));
    Map<SnapshotKind, SnapshotManifest> manifests = new EnumMap<>(SnapshotKind.class);
    parts.forEach((kind, part) -> manifests.put(kind, part.manifest()));
    Instant now = Instant.now();
    ExportManifest manifest =
        new ExportManifest(
            GROUP,
            LINEAGE,
            version,
            ExportManifest.NO_PREVIOUS,
            false,
            now,
            "test",
            manifests,
            now,
            now.plus(Duration.ofMinutes(15)));
    return new VerifiedExport(SignedExport.unsigned(manifest), parts);
  }

  private static SnapshotManifest part(SnapshotKind kind, long version, BodyStats stats) {
    return SnapshotManifest.of(
        GROUP,
        kind,
        version,
        Instant.now(),
        "test",
        new ExportLayout("", GROUP).bodyKey(kind, version, stats.sha256Hex()).value(),
        stats);
  }

  /** Polls {@code condition} until it holds; fails naming {@code what} after {@code limit}. */
  static void await(String what, Duration limit, BooleanSupplier condition) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + limit + " waiting until " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting until " + what, e);
      }
    }
  }
}
