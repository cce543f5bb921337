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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

/** A filesystem bucket and snapshot bodies for publisher and fetcher tests. */
final class SnapshotStorageFixture {

  static final SnapshotLayout LAYOUT =
      new SnapshotLayout("ballast", "default", SnapshotKind.RESOURCES);
  static final Clock CLOCK = Clock.fixed(Instant.parse("2026-03-04T05:06:07Z"), ZoneOffset.UTC);

  final ObjectStorage bucket;
  final Path work;

  SnapshotStorageFixture(Path dir) throws Exception {
    Files.createDirectories(dir.resolve("storage").resolve("resources"));
    this.bucket = new FilesystemBackend(dir.resolve("storage")).bucket("resources");
    this.work = Files.createDirectories(dir.resolve("work"));
  }

  SnapshotPublisher publisher(String producer, int retention) {
    return new SnapshotPublisher(bucket, LAYOUT, retention, producer, CLOCK);
  }

  SnapshotFetcher fetcher() {
    return new SnapshotFetcher(bucket, LAYOUT);
  }

  /**
   * A body of one upstream and {@code routes} routes, written to a file named after {@code tag}.
   */
  Body body(String tag, int routes) {
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
    Path file = work.resolve(tag + ".ndjson.gz");
    return new Body(file, SnapshotContent.writeResources(builder.build(), file));
  }

  record Body(Path file, BodyStats stats) {}

  List<Long> storedVersions() {
    return bucket
        .list(LAYOUT.snapshotsFolder())
        .map(ObjectMeta::key)
        .map(LAYOUT::versionOf)
        .filter(v -> v.isPresent())
        .map(v -> v.getAsLong())
        .collectList()
        .block();
  }

  SnapshotManifest pointer() {
    ReadResult result = bucket.get(LAYOUT.latestKey(), ReadCondition.NONE).block();
    ReadResult.Found found = (ReadResult.Found) result;
    return Pointers.parse(found, LAYOUT).block();
  }

  ObjectMeta head(ObjectKey key) {
    return bucket.head(key).block();
  }
}
