package io.ballast.snapshot;

import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.filesystem.FilesystemBackend;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

/** Filesystem buckets and exports for publisher and fetcher tests. */
final class SnapshotStorageFixture {

  static final ExportLayout LAYOUT = new ExportLayout("ballast", "default");
  static final Clock CLOCK = Clock.fixed(Instant.parse("2026-03-04T05:06:07Z"), ZoneOffset.UTC);
  static final Duration EXPIRE_AFTER = Duration.ofMinutes(15);
  static final String LINEAGE = "0b7c2d7e-1f7a-4c1e-9a51-3d3f0b0c9e11";

  final ObjectStorage resources;
  final ObjectStorage config;
  final Path work;
  final SnapshotSigner signer = new SnapshotSigner(SigningKeys.generate());

  SnapshotStorageFixture(Path dir) throws Exception {
    Files.createDirectories(dir.resolve("storage").resolve("resources"));
    Files.createDirectories(dir.resolve("storage").resolve("config"));
    FilesystemBackend backend = new FilesystemBackend(dir.resolve("storage"));
    this.resources = backend.bucket("resources");
    this.config = backend.bucket("config");
    this.work = Files.createDirectories(dir.resolve("work"));
  }

  ExportPublisher publisher(int retention) {
    return publisher(resources, retention, CLOCK);
  }

  ExportPublisher publisher(ObjectStorage resourceBucket, int retention, Clock clock) {
    return new ExportPublisher(
        resourceBucket, config, LAYOUT, retention, signer, EXPIRE_AFTER, clock);
  }

  ExportFetcher fetcher() {
    return fetcher(resources);
  }

  ExportFetcher fetcher(ObjectStorage resourceBucket) {
    return new ExportFetcher(
        resourceBucket, config, LAYOUT, SignatureVerifier.trusting(List.of(signer.publicKey())));
  }

  /**
   * An export of {@code version}: one upstream and {@code routes} routes named after {@code tag},
   * and an instance part naming {@code tag} too, so that two tags give two different bodies.
   */
  VerifiedExport export(long version, String tag, int routes) {
    return export(version, tag, routes, LINEAGE);
  }

  /** As {@link #export(long, String, int)}, of a store of {@code lineage}. */
  VerifiedExport export(long version, String tag, int routes, String lineage) {
    ResourceSet.Builder builder =
        ResourceSet.builder()
            .add(
                Resource.parse(
                    ResourceType.UPSTREAMS,
                    "u",
                    Json.mapper().readTree("{\"nodes\":{\"127.0.0.1:80\":1}}")));
    for (int i = 0; i < routes; i++) {
      builder.add(
          Resource.parse(
              ResourceType.ROUTES,
              tag + "-" + i,
              Json.mapper()
                  .readTree("{\"uri\":\"/" + tag + "/" + i + "\",\"upstream_id\":\"u\"}")));
    }
    Path resourceFile = work.resolve(tag + "-" + version + "-resources.ndjson.gz");
    BodyStats resourceStats = SnapshotContent.writeResources(builder.build(), resourceFile);
    Path instanceFile = work.resolve(tag + "-" + version + "-instance.ndjson.gz");
    BodyStats instanceStats;
    try (OutputStream out = Files.newOutputStream(instanceFile);
        SnapshotBodyWriter writer = new SnapshotBodyWriter(out)) {
      writer.write(
          new SnapshotEntry("settings", "plugins", Json.mapper().readTree("[\"" + tag + "\"]")));
      instanceStats = writer.finish();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    SnapshotManifest resourcePart = part(SnapshotKind.RESOURCES, version, resourceStats);
    SnapshotManifest instancePart = part(SnapshotKind.INSTANCE, version, instanceStats);
    ExportManifest manifest =
        new ExportManifest(
            "default",
            lineage,
            version,
            version - 1,
            false,
            CLOCK.instant(),
            "cp-1",
            Map.of(SnapshotKind.RESOURCES, resourcePart, SnapshotKind.INSTANCE, instancePart),
            CLOCK.instant(),
            CLOCK.instant().plus(EXPIRE_AFTER));
    return new VerifiedExport(
        signer.sign(manifest),
        Map.of(
            SnapshotKind.RESOURCES,
            new VerifiedSnapshot(resourcePart, resourceFile),
            SnapshotKind.INSTANCE,
            new VerifiedSnapshot(instancePart, instanceFile)));
  }

  private static SnapshotManifest part(SnapshotKind kind, long version, BodyStats stats) {
    return SnapshotManifest.of(
        "default",
        kind,
        version,
        CLOCK.instant(),
        "cp-1",
        LAYOUT.bodyKey(kind, version, stats.sha256Hex()).value(),
        stats);
  }

  ObjectStorage bucket(SnapshotKind kind) {
    return kind == SnapshotKind.RESOURCES ? resources : config;
  }

  List<Long> storedVersions(SnapshotKind kind) {
    SnapshotLayout part = LAYOUT.part(kind);
    return bucket(kind)
        .list(part.snapshotsFolder())
        .map(ObjectMeta::key)
        .map(part::versionOf)
        .filter(v -> v.isPresent())
        .map(v -> v.getAsLong())
        .sort()
        .collectList()
        .block();
  }

  SignedExport pointer() {
    ReadResult result = resources.get(LAYOUT.latestKey(), ReadCondition.NONE).block();
    ReadResult.Found found = (ReadResult.Found) result;
    return Pointers.parse(found, LAYOUT, SignatureVerifier.trusting(List.of(signer.publicKey())))
        .block();
  }

  ObjectMeta head(ObjectKey key) {
    return resources.head(key).block();
  }
}
