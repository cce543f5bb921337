package io.ballast.bench;

import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import io.ballast.config.ConfigLoader;
import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import io.ballast.snapshot.BodyStats;
import io.ballast.snapshot.ExportFetcher;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.ExportPublisher;
import io.ballast.snapshot.FallbackCpConfig;
import io.ballast.snapshot.FetchResult;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SigningKeys;
import io.ballast.snapshot.SnapshotContent;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.snapshot.SnapshotSigner;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.snapshot.VerifiedSnapshot;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.StorageBackends;
import io.ballast.testkit.AzuriteServer;
import io.ballast.testkit.FaultProxy;
import io.ballast.testkit.S3ProxyServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.node.ObjectNode;

/**
 * Publishes and pulls a snapshot of N routes (default 10,000) through each storage backend on
 * loopback, the way a control plane and a data plane do, and counts the bytes of an unchanged poll
 * through a {@link FaultProxy} in PASS mode. Run by {@code bench/storage.sh}; not a test.
 *
 * <p>Each backend: 3 warm-up rounds, then {@code runs} measured rounds. A round publishes a new
 * export (both bodies with If-None-Match *, then the signed pointer with If-Match), pulls it as a
 * data plane that has nothing (pointer and its signature, both bodies checked, to files), then
 * polls once more with the pointer's ETag.
 */
public final class StorageBench {

  private static final int WARMUP = 3;

  public static void main(String[] args) throws Exception {
    int routes = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    Path work = Files.createTempDirectory("ballast-storage-bench");
    Path body = work.resolve("body.ndjson.gz");
    BodyStats stats = SnapshotContent.writeResources(resources(routes), body);
    System.out.printf(
        "%d routes: body %d bytes gzipped; %d warm-up + %d measured rounds per backend%n",
        routes, stats.size(), WARMUP, runs);
    System.out.println(
        "| backend (server) | publish median (min–max) ms | pull median (min–max) ms"
            + " | unchanged poll: bytes received / sent |");
    System.out.println("| --- | --- | --- | --- |");

    Path fsDir = Files.createDirectories(work.resolve("filesystem"));
    run(
        "filesystem (local folder)",
        """
        filesystem:
          path: %s
          config_bucket: config
          resource_bucket: resources
        """
            .formatted(fsDir),
        null,
        body,
        stats,
        work,
        runs);

    try (S3ProxyServer s3 = S3ProxyServer.start(work.resolve("s3proxy"));
        FaultProxy proxy = FaultProxy.start(s3.port())) {
      s3.createBucket("config");
      s3.createBucket("resources");
      run(
          "aws_s3 (S3Proxy 4.1.0)",
          """
          aws_s3:
            access_key: %s
            secret_key: %s
            region: us-east-1
            config_bucket: config
            resource_bucket: resources
            endpoint: %s
          """
              .formatted(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY, proxy.endpoint()),
          proxy,
          body,
          stats,
          work,
          runs);
      run(
          "minio (S3Proxy 4.1.0)",
          """
          minio:
            endpoint: %s
            access_key: %s
            secret_key: %s
            config_bucket: config
            resource_bucket: resources
            prefix: minio
          """
              .formatted(proxy.endpoint(), S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY),
          proxy,
          body,
          stats,
          work,
          runs);
    }

    try (AzuriteServer azurite = AzuriteServer.start(work.resolve("azurite"));
        FaultProxy proxy = FaultProxy.start(azurite.port())) {
      createContainers(azurite);
      run(
          "azure_blob (Azurite 3.35.0)",
          """
          azure_blob:
            account_name: %s
            account_key: %s
            config_container: config
            resource_container: resources
            endpoint: %s/%s
          """
              .formatted(
                  AzuriteServer.ACCOUNT_NAME,
                  AzuriteServer.ACCOUNT_KEY,
                  proxy.endpoint(),
                  AzuriteServer.ACCOUNT_NAME),
          proxy,
          body,
          stats,
          work,
          runs);
    }
  }

  private static void run(
      String name, String block, FaultProxy proxy, Path body, BodyStats stats, Path work, int runs)
      throws IOException {
    String yaml = "fallback_cp:\n" + block.strip().indent(2);
    FallbackCpConfig config =
        FallbackCpConfig.find(ConfigLoader.parse(yaml, "bench.yaml", System::getenv)).orElseThrow();
    Path downloads = Files.createDirectories(work.resolve("downloads"));
    try (StorageBackend backend = StorageBackends.open(config.backend(), config.block())) {
      ObjectStorage bucket = backend.bucket(config.resourceBucket());
      ObjectStorage configBucket = backend.bucket(config.configBucket());
      ExportLayout layout = new ExportLayout(config.prefix(), "bench");
      SnapshotSigner signer = new SnapshotSigner(SigningKeys.generate());
      ExportPublisher publisher =
          new ExportPublisher(
              bucket, configBucket, layout, 3, signer, Duration.ofMinutes(15), Clock.systemUTC());
      ExportFetcher fetcher =
          new ExportFetcher(
              bucket,
              configBucket,
              layout,
              SignatureVerifier.trusting(List.of(signer.publicKey())));
      Path instanceBody = work.resolve("instance.ndjson.gz");
      BodyStats instanceStats = SnapshotContent.writeResources(ResourceSet.empty(), instanceBody);
      List<Double> publishMs = new ArrayList<>();
      List<Double> pullMs = new ArrayList<>();
      long received = -1;
      long sent = -1;
      for (int round = 1; round <= WARMUP + runs; round++) {
        long start = System.nanoTime();
        publisher
            .publish(export(signer, layout, round, body, stats, instanceBody, instanceStats))
            .block();
        double published = millisSince(start);

        start = System.nanoTime();
        FetchResult.Fetched fetched =
            (FetchResult.Fetched) fetcher.fetchLatest(null, -1, downloads).block();
        double pulled = millisSince(start);
        for (VerifiedSnapshot part : fetched.export().parts().values()) {
          Files.delete(part.body());
        }

        if (proxy != null) {
          proxy.resetCounters();
        }
        FetchResult unchanged =
            fetcher.fetchLatest(fetched.pointerEtag(), round, downloads).block();
        if (!(unchanged instanceof FetchResult.NotModified)) {
          throw new AssertionError(name + ": an unchanged poll gave " + unchanged);
        }
        if (proxy != null) {
          received = proxy.bytesFromServer();
          sent = proxy.bytesToServer();
        }
        if (round > WARMUP) {
          publishMs.add(published);
          pullMs.add(pulled);
        }
      }
      System.out.printf(
          "| %s | %s | %s | %s |%n",
          name,
          summary(publishMs),
          summary(pullMs),
          proxy == null ? "no network" : received + " / " + sent);
    }
  }

  /** Export {@code version} of the same bodies, as a CP would sign it. */
  private static VerifiedExport export(
      SnapshotSigner signer,
      ExportLayout layout,
      long version,
      Path body,
      BodyStats stats,
      Path instanceBody,
      BodyStats instanceStats) {
    Instant now = Instant.now();
    Map<SnapshotKind, VerifiedSnapshot> parts = new EnumMap<>(SnapshotKind.class);
    Map<SnapshotKind, SnapshotManifest> manifests = new EnumMap<>(SnapshotKind.class);
    for (SnapshotKind kind : SnapshotKind.values()) {
      boolean resources = kind == SnapshotKind.RESOURCES;
      BodyStats partStats = resources ? stats : instanceStats;
      SnapshotManifest part =
          SnapshotManifest.of(
              "bench",
              kind,
              version,
              now,
              "bench",
              layout.bodyKey(kind, version, partStats.sha256Hex()).value(),
              partStats);
      manifests.put(kind, part);
      parts.put(kind, new VerifiedSnapshot(part, resources ? body : instanceBody));
    }
    ExportManifest manifest =
        new ExportManifest(
            "bench",
            "bench-lineage",
            version,
            version - 1,
            false,
            now,
            "bench",
            manifests,
            now,
            now.plus(Duration.ofMinutes(15)));
    return new VerifiedExport(signer.sign(manifest), parts);
  }

  /** N routes on one upstream, shaped like the Admin API's. */
  private static ResourceSet resources(int routes) {
    ResourceSet.Builder set = ResourceSet.builder();
    ObjectNode upstream = Json.mapper().createObjectNode();
    upstream.put("id", "u1").put("type", "roundrobin");
    upstream.putObject("nodes").put("10.0.0.1:8080", 1).put("10.0.0.2:8080", 1);
    set.add(Resource.parse(ResourceType.UPSTREAMS, "u1", upstream));
    for (int i = 0; i < routes; i++) {
      ObjectNode route = Json.mapper().createObjectNode();
      route.put("id", "route-" + i).put("uri", "/api/v1/service-" + i + "/*");
      route.putArray("methods").add("GET").add("POST");
      route.put("upstream_id", "u1");
      set.add(Resource.parse(ResourceType.ROUTES, "route-" + i, route));
    }
    return set.build();
  }

  private static void createContainers(AzuriteServer azurite) {
    BlobServiceClient client =
        new BlobServiceClientBuilder().connectionString(azurite.connectionString()).buildClient();
    client.createBlobContainer("config");
    client.createBlobContainer("resources");
  }

  private static double millisSince(long start) {
    return (System.nanoTime() - start) / 1e6;
  }

  private static String summary(List<Double> millis) {
    List<Double> sorted = new ArrayList<>(millis);
    Collections.sort(sorted);
    double median = sorted.get(sorted.size() / 2);
    return "%.1f (%.1f–%.1f)".formatted(median, sorted.get(0), sorted.get(sorted.size() - 1));
  }

  private StorageBench() {}
}
