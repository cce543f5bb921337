package io.ballast.chaos;

import io.ballast.config.ConfigLoader;
import io.ballast.snapshot.BodyStats;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.ExportPublisher;
import io.ballast.snapshot.FallbackCpConfig;
import io.ballast.snapshot.PublishResult;
import io.ballast.snapshot.SnapshotBodyWriter;
import io.ballast.snapshot.SnapshotEntry;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.snapshot.SnapshotSigner;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.snapshot.VerifiedSnapshot;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.StorageBackends;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * An export written by the test with a control plane's own signing key: content the CP's Admin API
 * would refuse, signed as the CP signs, so that only the data plane's own checks stand between it
 * and the proxy. Published with core's {@link ExportPublisher}, as the CP publishes.
 */
final class ForgedExport {

  private ForgedExport() {}

  /**
   * Publishes export {@code version} of {@code lineage} holding {@code routes} (as {@code
   * SnapshotEntry} values, in id order) and an empty instance part, signed with the key a CP
   * generated in {@code signingDir}, to {@code storage}.
   */
  static PublishResult publish(
      FilesystemStorage storage,
      Path signingDir,
      String lineage,
      long version,
      List<SnapshotEntry> routes,
      Path work) {
    SnapshotSigner signer = SnapshotSigner.loadOrGenerate(null, signingDir);
    String yaml = "fallback_cp:\n" + storage.block().strip().indent(2);
    FallbackCpConfig config =
        FallbackCpConfig.find(ConfigLoader.parse(yaml, "forged.yaml", name -> null)).orElseThrow();
    ExportLayout layout = new ExportLayout(config.prefix(), config.gatewayGroup());
    try (StorageBackend backend = StorageBackends.open(config.backend(), config.block())) {
      Files.createDirectories(work);
      Path resources = work.resolve("forged-resources-" + version + ".ndjson.gz");
      Path instance = work.resolve("forged-instance-" + version + ".ndjson.gz");
      BodyStats resourceStats = write(resources, routes);
      BodyStats instanceStats = write(instance, List.of());
      Instant now = Instant.now();
      Map<SnapshotKind, SnapshotManifest> manifests = new EnumMap<>(SnapshotKind.class);
      Map<SnapshotKind, VerifiedSnapshot> parts = new EnumMap<>(SnapshotKind.class);
      for (SnapshotKind kind : SnapshotKind.values()) {
        boolean isResources = kind == SnapshotKind.RESOURCES;
        BodyStats stats = isResources ? resourceStats : instanceStats;
        SnapshotManifest part =
            SnapshotManifest.of(
                layout.gatewayGroup(),
                kind,
                version,
                now,
                "chaos-test",
                layout.bodyKey(kind, version, stats.sha256Hex()).value(),
                stats);
        manifests.put(kind, part);
        parts.put(kind, new VerifiedSnapshot(part, isResources ? resources : instance));
      }
      ExportManifest manifest =
          new ExportManifest(
              layout.gatewayGroup(),
              lineage,
              version,
              version - 1,
              false,
              now,
              "chaos-test",
              manifests,
              now,
              now.plus(Duration.ofMinutes(15)));
      ExportPublisher publisher =
          new ExportPublisher(
              backend.bucket(config.resourceBucket()),
              backend.bucket(config.configBucket()),
              layout,
              10,
              signer,
              Duration.ofMinutes(15),
              Clock.systemUTC());
      return publisher.publish(new VerifiedExport(signer.sign(manifest), parts)).block();
    } catch (IOException e) {
      throw new UncheckedIOException("could not forge export " + version, e);
    }
  }

  private static BodyStats write(Path body, List<SnapshotEntry> entries) throws IOException {
    try (OutputStream out = Files.newOutputStream(body);
        SnapshotBodyWriter writer = new SnapshotBodyWriter(out)) {
      entries.forEach(writer::write);
      return writer.finish();
    }
  }
}
