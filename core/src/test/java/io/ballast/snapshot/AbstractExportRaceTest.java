package io.ballast.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongPredicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Control-plane replicas racing to export into one storage backend, run by each backend against a
 * real server (or a real folder): two {@link ExportPublisher}s on their own threads, one signing
 * key, and a reader polling the pointer the way a data plane does. The pointer is a conditional
 * write (If-Match on the ETag it was read with) and the bodies If-None-Match {@code *}, so the
 * pointer moves only forward, never lands on a body that is not there, and a store of another
 * lineage never takes turns with the one in storage.
 */
public abstract class AbstractExportRaceTest {

  /** Each replica skips a tenth of these (its own tenth), so the two publish 1,008 in all. */
  private static final int VERSIONS = 560;

  private static final Duration TIMEOUT = Duration.ofMinutes(2);
  private static final Duration EXPIRE_AFTER = Duration.ofMinutes(15);
  private static final String GROUP = "default";
  private static final String LINEAGE_A = "5d0f6c1e-7a3b-4f63-9b1e-2c8e4a7d9f01";
  private static final String LINEAGE_B = "a41c7e2b-93d5-4e8a-8f2c-6b7d1e0a3c52";

  /** Few bodies are kept, so the reader also meets bodies pruned after it read the pointer. */
  private static final int RETENTION = 2;

  private static final Duration POLL_PAUSE = Duration.ofMillis(2);

  @TempDir Path work;

  private final SnapshotSigner signer = new SnapshotSigner(SigningKeys.generate());
  private ExportLayout layout;

  /**
   * The bucket under test, for both parts. Every test works below its own key prefix, so the same
   * bucket may serve every test.
   */
  protected abstract ObjectStorage storage();

  /**
   * Whether the server checks If-Match and writes in one atomic step, as AWS S3, Azure and the
   * filesystem backend do. S3Proxy 4.1 checks first and writes afterwards (see the storage
   * contract's {@code serverIsAtomicUnder}), so two replicas can both move the pointer from the
   * same ETag there, and the later write may land a lower version. On such a server the race still
   * runs and checks every other property; the pointer's order is reported, not asserted.
   */
  protected boolean serverIsAtomicUnderIfMatch() {
    return true;
  }

  @BeforeEach
  void newLayout() {
    layout = new ExportLayout("race-" + UUID.randomUUID(), GROUP);
  }

  @Test
  void replicasRacingAThousandExportsMoveThePointerOnlyForward() throws Exception {
    Map<Long, VerifiedExport> builds = builds(LINEAGE_A, 1, VERSIONS);
    // Both replicas build the same store's revisions in order; each one's debounce coalesced a
    // different tenth of them, so they overlap on most versions and interleave on the rest.
    List<Long> forA = versions(1, VERSIONS, v -> v % 10 != 3);
    List<Long> forB = versions(1, VERSIONS, v -> v % 10 != 7);
    Reader reader = new Reader();

    long started = System.nanoTime();
    List<Outcome> outcomes = race(reader, replica(forA, builds), replica(forB, builds));
    long millis = Duration.ofNanos(System.nanoTime() - started).toMillis();

    assertThat(outcomes).hasSize(forA.size() + forB.size()).hasSizeGreaterThanOrEqualTo(1000);
    assertThat(outcomes).allSatisfy(o -> assertThat(o.error()).as("v%d", o.version()).isNull());
    // Each publish ends on the pointer or reports the newer version that superseded it.
    assertThat(outcomes)
        .allSatisfy(
            o -> {
              if (o.result() instanceof PublishResult.Published published) {
                assertThat(published.signed().version()).isEqualTo(o.version());
              } else {
                assertThat(o.result()).isInstanceOf(PublishResult.Skipped.class);
                assertThat(((PublishResult.Skipped) o.result()).existingVersion())
                    .as("superseded v%d", o.version())
                    .isGreaterThanOrEqualTo(o.version());
              }
            });
    // Of two replicas publishing one version, at most one moved the pointer to it.
    Map<Long, Long> publishedPerVersion =
        outcomes.stream()
            .filter(o -> o.result() instanceof PublishResult.Published)
            .collect(Collectors.groupingBy(Outcome::version, Collectors.counting()));
    long versionsWonTwice = publishedPerVersion.values().stream().filter(n -> n > 1).count();
    long stepsBack = reader.stepsBack();
    if (serverIsAtomicUnderIfMatch()) {
      assertThat(versionsWonTwice).isZero();
      assertThat(stepsBack).isZero();
    }
    assertThat(reader.problems).isEmpty();
    assertThat(reader.seen).isNotEmpty();
    SignedExport last = reader.readOnce().orElseThrow();
    assertThat(last.version()).isEqualTo(VERSIONS);
    assertThat(reader.problems).isEmpty();

    System.out.printf(
        "%s: %d racing exports (%d moved the pointer, the rest superseded) in %d ms; the reader"
            + " verified %d pointers with their bodies, %d bodies pruned after a newer pointer;"
            + " %d versions won by both replicas, %d steps back, %d pointed bodies missing%n",
        storage().describe(),
        outcomes.size(),
        publishedPerVersion.size(),
        millis,
        reader.seen.size(),
        reader.pruned,
        versionsWonTwice,
        stepsBack,
        reader.missingWhilePointed);
  }

  @Test
  void aStoreOfAnotherLineageNeverTakesTurnsWithTheOneInStorage() throws Exception {
    // CP A exports; CP B, with a store of its own, starts after A's first export and counts its
    // own versions over the same range.
    Map<Long, VerifiedExport> buildsA = builds(LINEAGE_A, 1, 100);
    Map<Long, VerifiedExport> buildsB = builds(LINEAGE_B, 2, 100);
    assertThat(publisher().publish(buildsA.get(1L)).block(TIMEOUT))
        .isInstanceOf(PublishResult.Published.class);
    Reader reader = new Reader();

    List<Outcome> outcomes =
        race(
            reader,
            replica(versions(2, 100, v -> true), buildsA),
            replica(versions(2, 100, v -> v % 3 != 0), buildsB));

    assertThat(outcomes).allSatisfy(o -> assertThat(o.error()).as("v%d", o.version()).isNull());
    Map<String, List<PublishResult>> byLineage =
        outcomes.stream()
            .collect(
                Collectors.groupingBy(
                    o -> o.lineage(), Collectors.mapping(Outcome::result, Collectors.toList())));
    assertThat(byLineage.get(LINEAGE_A)).allMatch(r -> r instanceof PublishResult.Published);
    assertThat(byLineage.get(LINEAGE_B))
        .allSatisfy(
            r ->
                assertThat(r)
                    .isInstanceOfSatisfying(
                        PublishResult.OtherLineage.class,
                        other -> {
                          assertThat(other.existingLineage()).isEqualTo(LINEAGE_A);
                          assertThat(other.ownLineage()).isEqualTo(LINEAGE_B);
                        }));
    assertThat(reader.problems).isEmpty();
    assertThat(reader.seen).isSorted();
    assertThat(reader.lineages).containsOnly(LINEAGE_A);
    assertThat(reader.readOnce().orElseThrow().version()).isEqualTo(100);

    // The operator restarts B with --lineage=store: B's store, numbered above storage's, replaces
    // A's lineage, and from then on A is the one refused.
    VerifiedExport kept = build(LINEAGE_B, 101);
    assertThat(publisher().publish(kept, Optional.of(LINEAGE_A)).block(TIMEOUT))
        .isInstanceOf(PublishResult.Published.class);
    assertThat(publisher().publish(build(LINEAGE_A, 102)).block(TIMEOUT))
        .isEqualTo(new PublishResult.OtherLineage(101, LINEAGE_B, LINEAGE_A));
    SignedExport now = reader.readOnce().orElseThrow();
    assertThat(now.version()).isEqualTo(101);
    assertThat(now.manifest().lineage()).isEqualTo(LINEAGE_B);
    assertThat(reader.problems).isEmpty();
  }

  // ---------------------------------------------------------------------------------------------
  // the race

  private record Outcome(long version, String lineage, PublishResult result, Throwable error) {}

  /** One replica: its own publisher, publishing its builds in order on its own thread. */
  private CompletableFuture<List<Outcome>> replica(
      List<Long> versions, Map<Long, VerifiedExport> builds) {
    ExportPublisher publisher = publisher();
    return CompletableFuture.supplyAsync(
        () -> {
          List<Outcome> outcomes = new ArrayList<>();
          for (long version : versions) {
            VerifiedExport export = builds.get(version);
            String lineage = export.manifest().lineage();
            try {
              outcomes.add(
                  new Outcome(version, lineage, publisher.publish(export).block(TIMEOUT), null));
            } catch (RuntimeException e) {
              outcomes.add(new Outcome(version, lineage, null, e));
            }
          }
          return outcomes;
        },
        runnable -> new Thread(runnable, "replica").start());
  }

  /** Runs both replicas to the end while {@code reader} polls the pointer. */
  private static List<Outcome> race(
      Reader reader, CompletableFuture<List<Outcome>> a, CompletableFuture<List<Outcome>> b)
      throws Exception {
    Thread polling = new Thread(reader, "reader");
    polling.start();
    try {
      return Stream.concat(a.get().stream(), b.get().stream()).toList();
    } finally {
      reader.running.set(false);
      polling.join();
    }
  }

  /**
   * Reads the pointer as a data plane does (signature checked), then both bodies (size and
   * SHA-256). A body missing when read must have been pruned after a newer pointer: the pointer,
   * read again, names a higher version.
   */
  private final class Reader implements Runnable {
    final AtomicBoolean running = new AtomicBoolean(true);
    final List<Long> seen = Collections.synchronizedList(new ArrayList<>());
    final Set<String> lineages = ConcurrentHashMap.newKeySet();
    final List<String> problems = Collections.synchronizedList(new ArrayList<>());
    volatile int pruned;
    volatile int missingWhilePointed;

    private final SignatureVerifier verifier =
        SignatureVerifier.trusting(List.of(signer.publicKey()));

    @Override
    public void run() {
      while (running.get() && problems.isEmpty()) {
        readOnce();
        // A data plane polls; a pause leaves the two cores of a CI runner to the replicas.
        LockSupport.parkNanos(POLL_PAUSE.toNanos());
      }
    }

    /** How often a pointer read named a lower version than the read before it. */
    long stepsBack() {
      synchronized (seen) {
        return IntStream.range(1, seen.size()).filter(i -> seen.get(i) < seen.get(i - 1)).count();
      }
    }

    Optional<SignedExport> readOnce() {
      try {
        Optional<SignedExport> pointer = pointer();
        pointer.ifPresent(this::verifyBodies);
        return pointer;
      } catch (RuntimeException e) {
        problems.add(e.toString());
        return Optional.empty();
      }
    }

    private Optional<SignedExport> pointer() {
      ReadResult result = storage().get(layout.latestKey(), ReadCondition.NONE).block(TIMEOUT);
      if (result instanceof ReadResult.NotFound) {
        return Optional.empty();
      }
      SignedExport signed = Pointers.parse((ReadResult.Found) result, layout, verifier).block();
      seen.add(signed.version());
      lineages.add(signed.manifest().lineage());
      return Optional.of(signed);
    }

    private void verifyBodies(SignedExport signed) {
      for (SnapshotKind kind : SnapshotKind.values()) {
        SnapshotManifest part = signed.manifest().part(kind);
        ReadResult body = storage().get(ObjectKey.of(part.bodyKey()), ReadCondition.NONE).block();
        if (body instanceof ReadResult.Found found) {
          Path file = work.resolve("read-" + UUID.randomUUID());
          ByteStreams.write(found.body(), file).block(TIMEOUT);
          SnapshotFiles.verify(file, part);
          deleteQuietly(file);
        } else {
          long now = pointer().map(SignedExport::version).orElse(-1L);
          if (now > signed.version()) {
            pruned++;
          } else if (serverIsAtomicUnderIfMatch()) {
            problems.add(
                part.bodyKey() + " is missing while the pointer still names version " + now);
          } else {
            // The pointer stepped back onto a pruned body: the server let a stale write win.
            missingWhilePointed++;
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // exports

  private ExportPublisher publisher() {
    return new ExportPublisher(
        storage(), storage(), layout, RETENTION, signer, EXPIRE_AFTER, Clock.systemUTC());
  }

  private static List<Long> versions(long from, long to, LongPredicate kept) {
    return LongStream.rangeClosed(from, to).filter(kept).boxed().toList();
  }

  private Map<Long, VerifiedExport> builds(String lineage, long from, long to) {
    return LongStream.rangeClosed(from, to)
        .boxed()
        .collect(Collectors.toMap(v -> v, v -> build(lineage, v)));
  }

  /** A small export: one route and one plugin setting, both naming the lineage and version. */
  private VerifiedExport build(String lineage, long version) {
    String tag = lineage.substring(0, 8) + "-" + version;
    try {
      Path resourceFile = work.resolve(tag + "-resources.ndjson.gz");
      BodyStats resourceStats =
          SnapshotContent.writeResources(
              ResourceSet.builder()
                  .add(
                      Resource.parse(
                          ResourceType.UPSTREAMS,
                          "u",
                          Json.mapper().readTree("{\"nodes\":{\"127.0.0.1:80\":1}}")))
                  .add(
                      Resource.parse(
                          ResourceType.ROUTES,
                          "r",
                          Json.mapper()
                              .readTree("{\"uri\":\"/" + tag + "\",\"upstream_id\":\"u\"}")))
                  .build(),
              resourceFile);
      Path instanceFile = work.resolve(tag + "-instance.ndjson.gz");
      BodyStats instanceStats;
      try (OutputStream out = Files.newOutputStream(instanceFile);
          SnapshotBodyWriter writer = new SnapshotBodyWriter(out)) {
        writer.write(
            new SnapshotEntry("settings", "plugins", Json.mapper().readTree("[\"" + tag + "\"]")));
        instanceStats = writer.finish();
      }
      Instant now = Instant.now();
      SnapshotManifest resources = part(SnapshotKind.RESOURCES, version, now, resourceStats);
      SnapshotManifest instance = part(SnapshotKind.INSTANCE, version, now, instanceStats);
      ExportManifest manifest =
          new ExportManifest(
              GROUP,
              lineage,
              version,
              version - 1,
              false,
              now,
              "race-test",
              Map.of(SnapshotKind.RESOURCES, resources, SnapshotKind.INSTANCE, instance),
              now,
              now.plus(EXPIRE_AFTER));
      return new VerifiedExport(
          signer.sign(manifest),
          Map.of(
              SnapshotKind.RESOURCES,
              new VerifiedSnapshot(resources, resourceFile),
              SnapshotKind.INSTANCE,
              new VerifiedSnapshot(instance, instanceFile)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private SnapshotManifest part(SnapshotKind kind, long version, Instant now, BodyStats stats) {
    return SnapshotManifest.of(
        GROUP,
        kind,
        version,
        now,
        "race-test",
        layout.bodyKey(kind, version, stats.sha256Hex()).value(),
        stats);
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
