package io.ballast.dataplane;

import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import io.ballast.snapshot.BodyStats;
import io.ballast.snapshot.SnapshotBodyWriter;
import io.ballast.snapshot.SnapshotContent;
import io.ballast.snapshot.SnapshotEntry;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotLayout;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.snapshot.VerifiedSnapshot;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Snapshot files on disk for the data-plane tests. */
final class Snapshots {

  static final String GROUP = "default";
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

  /** A resources snapshot of {@code set} as version {@code version}, its body in {@code dir}. */
  static VerifiedSnapshot resources(Path dir, long version, ResourceSet set) {
    Path body = dir.resolve("resources-" + version + "-" + System.nanoTime() + ".ndjson.gz");
    BodyStats stats = SnapshotContent.writeResources(set, body);
    return snapshot(SnapshotKind.RESOURCES, version, body, stats);
  }

  /** A snapshot of any entries, valid or not, in canonical order. */
  static VerifiedSnapshot raw(
      Path dir, SnapshotKind kind, long version, List<SnapshotEntry> entries) {
    Path body = dir.resolve(kind.id() + "-" + version + "-" + System.nanoTime() + ".ndjson.gz");
    BodyStats stats;
    try (OutputStream out = Files.newOutputStream(body);
        SnapshotBodyWriter writer = new SnapshotBodyWriter(out)) {
      entries.forEach(writer::write);
      stats = writer.finish();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return snapshot(kind, version, body, stats);
  }

  static SnapshotEntry entry(String type, String id, String json) {
    return new SnapshotEntry(type, id, Json.mapper().readTree(json));
  }

  private static VerifiedSnapshot snapshot(
      SnapshotKind kind, long version, Path body, BodyStats stats) {
    SnapshotManifest manifest =
        SnapshotManifest.of(
            GROUP,
            kind,
            version,
            Instant.now(),
            "test",
            new SnapshotLayout("", GROUP, kind).bodyKey(version).value(),
            stats);
    return new VerifiedSnapshot(manifest, body);
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
