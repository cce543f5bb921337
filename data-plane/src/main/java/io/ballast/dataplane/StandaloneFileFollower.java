package io.ballast.dataplane;

import io.ballast.dataplane.SnapshotApplier.Source;
import io.ballast.dataplane.StandaloneFile.Format;
import io.ballast.dataplane.StandaloneFile.IncompleteFileException;
import io.ballast.dataplane.StandaloneFile.InvalidFileException;
import io.ballast.fs.PrivateFiles;
import io.ballast.resource.ResourceSet;
import io.ballast.snapshot.BodyStats;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.SignedExport;
import io.ballast.snapshot.SnapshotContent;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.snapshot.VerifiedSnapshot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * Serves APISIX's standalone file and reloads it when it changes. Each content that parses and
 * validates becomes a new resources snapshot offered to the {@link DataPlane}; content that does
 * not keeps the configuration served and is reported by {@link #lastError()}.
 *
 * <p>Two triggers look at the file: a {@link WatchService} on its folder, for a prompt reload, and
 * a poll every {@code pollInterval}, because watch events are not delivered on some filesystems
 * (network mounts, some container volumes) and a Kubernetes ConfigMap changes the file by swapping
 * a symlink. Each look reads the file and compares its SHA-256 with the last content seen, so an
 * edit is found even when the modification time does not move (coarse timestamps) and an unchanged
 * file costs one read and no parse.
 *
 * <p>Versions are the file's modification time in milliseconds, raised past the version served when
 * that is not newer: they never go down, also across restarts that serve the local cache.
 */
public final class StandaloneFileFollower implements Follower {

  private static final Logger log = LoggerFactory.getLogger(StandaloneFileFollower.class);
  private static final String MISSING = "missing";

  /** The lineage of exports made from the standalone file: never a CP store's. */
  static final String LINEAGE = "standalone-file";

  private final Path file;
  private final Format format;
  private final DataPlane dataPlane;
  private final Path workDir;
  private final Function<String, String> env;
  private final Duration pollInterval;
  private final String producer;
  private final Clock clock;

  /** SHA-256 of the last content handled (or {@link #MISSING}): the same content is not redone. */
  private String lastSeen;

  private long lastVersion = SnapshotApplier.NONE;
  private volatile Instant lastCheck;
  private volatile String lastError;
  private Disposable poll;
  private WatchService watcher;

  public StandaloneFileFollower(
      Path file,
      Format format,
      DataPlane dataPlane,
      Path workDir,
      Function<String, String> env,
      Duration pollInterval,
      String producer,
      Clock clock) {
    this.file = file.toAbsolutePath().normalize();
    this.format = format;
    this.dataPlane = dataPlane;
    this.workDir = workDir;
    this.env = env;
    this.pollInterval = pollInterval;
    this.producer = producer;
    this.clock = clock;
  }

  /** Reads the file once, then follows its changes until {@link #close()}. */
  public void start() {
    check();
    startWatching();
    poll =
        Flux.interval(pollInterval, pollInterval, Schedulers.boundedElastic())
            .onBackpressureDrop()
            .subscribe(tick -> check());
  }

  /** One look at the file: applies its content if it changed and is valid. */
  public synchronized void check() {
    lastCheck = clock.instant();
    byte[] bytes;
    long modifiedMillis;
    try {
      bytes = Files.readAllBytes(file);
      modifiedMillis = Files.getLastModifiedTime(file).toMillis();
    } catch (NoSuchFileException e) {
      if (!MISSING.equals(lastSeen)) {
        log.warn("{} does not exist; serving what was loaded before, if anything", file);
      }
      lastSeen = MISSING;
      lastError = file + ": file not found";
      return;
    } catch (IOException e) {
      // Maybe a moment's trouble (a file being replaced): the next look tries again.
      lastError = file + ": cannot be read: " + e;
      return;
    }
    String sha = sha256(bytes);
    if (sha.equals(lastSeen)) {
      return;
    }
    try {
      handle(new String(bytes, StandardCharsets.UTF_8), modifiedMillis);
      lastSeen = sha;
    } catch (UncheckedIOException e) {
      lastError = file + ": cannot build the snapshot: " + e.getMessage();
      log.error("{}", lastError);
    }
  }

  private void handle(String text, long modifiedMillis) {
    long version = Math.max(modifiedMillis, Math.max(dataPlane.version(), lastVersion) + 1);
    ResourceSet resources;
    try {
      resources = StandaloneFile.parse(text, file.toString(), format, env);
    } catch (IncompleteFileException e) {
      lastError = e.getMessage();
      log.info("{}; still serving version {}", e.getMessage(), dataPlane.version());
      return;
    } catch (InvalidFileException e) {
      lastError = e.getMessage();
      dataPlane.reject(version, Source.FILE, e.getMessage());
      return;
    }
    VerifiedExport snapshot = write(resources, version);
    // Cleared before the swap: whoever sees the new version served must not see the old error.
    lastError = null;
    try {
      if (dataPlane.offer(snapshot, Source.FILE, Optional.empty())) {
        lastVersion = version;
      } else {
        lastError =
            dataPlane.lastRejection().map(SnapshotApplier.Rejection::reason).orElse("refused");
      }
    } finally {
      for (VerifiedSnapshot part : snapshot.parts().values()) {
        try {
          Files.deleteIfExists(part.body());
        } catch (IOException e) {
          log.debug("cannot delete {}: {}", part.body(), e.toString());
        }
      }
    }
  }

  /**
   * The file as an export like any other: its resources, an empty instance part (a standalone
   * node's settings are its own file's), unsigned (a file needs no signature: the node reads its
   * own disk), never expiring.
   */
  private VerifiedExport write(ResourceSet resources, long version) {
    try {
      PrivateFiles.createFolder(workDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + workDir, e);
    }
    Path resourceBody = workDir.resolve("file-" + version + ".ndjson.gz");
    BodyStats resourceStats = SnapshotContent.writeResources(resources, resourceBody);
    Path instanceBody = workDir.resolve("file-" + version + "-instance.ndjson.gz");
    BodyStats instanceStats = SnapshotContent.writeResources(ResourceSet.empty(), instanceBody);
    Instant now = clock.instant();
    SnapshotManifest resourcePart = part(SnapshotKind.RESOURCES, version, now, resourceStats);
    SnapshotManifest instancePart = part(SnapshotKind.INSTANCE, version, now, instanceStats);
    ExportManifest manifest =
        new ExportManifest(
            "default",
            LINEAGE,
            version,
            ExportManifest.NO_PREVIOUS,
            false,
            now,
            producer,
            Map.of(SnapshotKind.RESOURCES, resourcePart, SnapshotKind.INSTANCE, instancePart),
            now,
            Instant.MAX);
    return new VerifiedExport(
        SignedExport.unsigned(manifest),
        Map.of(
            SnapshotKind.RESOURCES,
            new VerifiedSnapshot(resourcePart, resourceBody),
            SnapshotKind.INSTANCE,
            new VerifiedSnapshot(instancePart, instanceBody)));
  }

  private SnapshotManifest part(SnapshotKind kind, long version, Instant now, BodyStats stats) {
    return SnapshotManifest.of("default", kind, version, now, producer, file.toString(), stats);
  }

  private void startWatching() {
    Path folder = file.getParent();
    try {
      watcher = folder.getFileSystem().newWatchService();
      folder.register(
          watcher,
          StandardWatchEventKinds.ENTRY_CREATE,
          StandardWatchEventKinds.ENTRY_MODIFY,
          StandardWatchEventKinds.ENTRY_DELETE);
    } catch (IOException | UnsupportedOperationException e) {
      log.warn("cannot watch {} ({}); polling it every {}", folder, e, pollInterval);
      return;
    }
    Thread thread = new Thread(this::watch, "standalone-file-watch");
    thread.setDaemon(true);
    thread.start();
  }

  private void watch() {
    try {
      while (true) {
        WatchKey key = watcher.take();
        boolean ours = false;
        for (WatchEvent<?> event : key.pollEvents()) {
          ours |=
              event.kind() == StandardWatchEventKinds.OVERFLOW
                  || file.getFileName().equals(event.context());
        }
        if (ours) {
          check();
        }
        if (!key.reset()) {
          log.warn(
              "{} can no longer be watched; polling it every {}", file.getParent(), pollInterval);
          return;
        }
      }
    } catch (ClosedWatchServiceException | InterruptedException e) {
      // closed: the node is stopping
    } catch (RuntimeException e) {
      log.error("watching {} failed; polling it every {}", file, pollInterval, e);
    }
  }

  public Path file() {
    return file;
  }

  public Optional<Instant> lastCheck() {
    return Optional.ofNullable(lastCheck);
  }

  /** Why the file's current content is not served; empty when it is. */
  public Optional<String> lastError() {
    return Optional.ofNullable(lastError);
  }

  @Override
  public Map<String, Object> status() {
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("path", file.toString());
    lastCheck().ifPresent(t -> status.put("last_check", t.toString()));
    lastError().ifPresent(e -> status.put("last_error", e));
    return status;
  }

  @Override
  public void close() {
    if (poll != null) {
      poll.dispose();
    }
    if (watcher != null) {
      try {
        watcher.close();
      } catch (IOException e) {
        log.debug("closing the watch on {}: {}", file, e.toString());
      }
    }
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
