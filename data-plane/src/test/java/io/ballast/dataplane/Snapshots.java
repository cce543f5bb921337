package io.ballast.dataplane;

import io.ballast.controlplane.SnapshotBuilder;
import io.ballast.controlplane.store.ConfigStore;
import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import io.ballast.snapshot.BodyStats;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.SignedExport;
import io.ballast.snapshot.SigningKeys;
import io.ballast.snapshot.SnapshotBodyWriter;
import io.ballast.snapshot.SnapshotContent;
import io.ballast.snapshot.SnapshotEntry;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotLayout;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.snapshot.SnapshotSigner;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.snapshot.VerifiedSnapshot;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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

  static final String LINEAGE = "0d8b9a36-5a43-4a55-9a3e-4b1a3c9f2e11";

  /**
   * An unsigned export of {@code set} (resources) and no node-level settings (instance) as version
   * {@code version}, fresh for 15 minutes.
   */
  static VerifiedExport export(Path dir, long version, ResourceSet set) {
    Instant now = Instant.now();
    return export(dir, version, set, Optional.empty(), now, now.plus(Duration.ofMinutes(15)));
  }

  /** An export as above, signed by {@code signer} when given, at {@code signedAt}. */
  static VerifiedExport export(
      Path dir,
      long version,
      ResourceSet set,
      Optional<SnapshotSigner> signer,
      Instant signedAt,
      Instant expiresAt) {
    return export(
        resources(dir, version, set),
        raw(dir, SnapshotKind.INSTANCE, version, List.of()),
        signer,
        signedAt,
        expiresAt);
  }

  /** An export of these two parts, which must have one version. */
  static VerifiedExport export(
      VerifiedSnapshot resources,
      VerifiedSnapshot instance,
      Optional<SnapshotSigner> signer,
      Instant signedAt,
      Instant expiresAt) {
    ExportManifest manifest =
        new ExportManifest(
            GROUP,
            LINEAGE,
            resources.version(),
            resources.version() - 1,
            false,
            resources.manifest().createdAt(),
            "test",
            Map.of(
                SnapshotKind.RESOURCES,
                resources.manifest(),
                SnapshotKind.INSTANCE,
                instance.manifest()),
            signedAt,
            expiresAt);
    SignedExport signed =
        signer.map(s -> s.sign(manifest)).orElseGet(() -> SignedExport.unsigned(manifest));
    return new VerifiedExport(
        signed, Map.of(SnapshotKind.RESOURCES, resources, SnapshotKind.INSTANCE, instance));
  }

  /** A control plane's export builder of {@code store}, signing with a new key. */
  static SnapshotBuilder builder(ConfigStore store, Path workDir) {
    return new SnapshotBuilder(
        store,
        workDir,
        new ExportLayout("", GROUP),
        "cp-test",
        () -> LINEAGE,
        new SnapshotSigner(SigningKeys.generate()),
        Duration.ofMinutes(15),
        Clock.systemUTC());
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
