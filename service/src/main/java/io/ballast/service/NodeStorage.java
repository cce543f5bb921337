package io.ballast.service;

import io.ballast.config.ConfigException;
import io.ballast.dataplane.BucketWatch;
import io.ballast.fs.PrivateFiles;
import io.ballast.snapshot.FallbackCpConfig;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.StorageBlock;
import io.ballast.storage.InvalidStorageConfigException;
import io.ballast.storage.MissingBucketException;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.StorageBackends;
import io.ballast.storage.filesystem.FilesystemBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The storage backends of a node's {@code fallback_cp}, one per storage block, opened in the order
 * written, and the checks of their buckets at start: a bucket name the backend refuses, and a
 * bucket that does not exist. Buckets are never created here or in a backend; the one exception is
 * the node's own folders, see {@link #createOwnFolders}.
 */
final class NodeStorage implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(NodeStorage.class);

  /** How long a control plane waits at start for storage to say whether its buckets exist. */
  static final Duration START_CHECK = Duration.ofSeconds(5);

  /** One storage block and the backend opened from it. */
  record Backend(StorageBlock block, StorageBackend backend) {

    ObjectStorage bucket(SnapshotKind kind) {
      return backend.bucket(block.bucket(kind));
    }

    /** The key that names {@code kind}'s bucket, e.g. {@code fallback_cp.aws_s3.config_bucket}. */
    String bucketKey(SnapshotKind kind) {
      String name = kind == SnapshotKind.RESOURCES ? "resource" : "config";
      String key = block.block().has(name + "_container") ? name + "_container" : name + "_bucket";
      return block.block().pathOf(key);
    }
  }

  private final List<Backend> backends;

  private NodeStorage(List<Backend> backends) {
    this.backends = List.copyOf(backends);
  }

  /**
   * Opens a backend per storage block. A bucket name a backend refuses is a mistake in the file:
   * reported with its key before anything starts, rather than by the first export or poll.
   *
   * @throws ConfigException naming the key at fault; what was opened is closed
   */
  static NodeStorage open(FallbackCpConfig fallback) {
    List<Backend> opened = new ArrayList<>();
    try {
      for (StorageBlock block : fallback.storages()) {
        StorageBackend backend = StorageBackends.open(block.backend(), block.block());
        Backend entry = new Backend(block, backend);
        opened.add(entry);
        checkBucketNames(entry);
      }
    } catch (RuntimeException e) {
      opened.forEach(entry -> entry.backend().close());
      throw e;
    }
    return new NodeStorage(opened);
  }

  private static void checkBucketNames(Backend entry) {
    for (SnapshotKind kind : SnapshotKind.values()) {
      try {
        entry.bucket(kind);
      } catch (InvalidStorageConfigException e) {
        throw new ConfigException(
            entry.block().block().file(), entry.bucketKey(kind), e.getMessage());
      }
    }
  }

  List<Backend> backends() {
    return backends;
  }

  /**
   * Creates the bucket folders of a filesystem store inside this node's own {@code
   * ballast.data_dir}, which the node owns like its store and caches: so the embedded default
   * ({@code conf/config.yaml}, storage in {@code data/storage}) starts on a fresh machine. Any
   * other folder must exist, as a bucket must: a typo or an unmounted volume is reported, not
   * filled. Called only by a node that exports (a control plane, or the traditional role).
   */
  void createOwnFolders(Path dataDir) {
    for (Backend entry : backends) {
      if (!(entry.backend() instanceof FilesystemBackend filesystem)
          || !filesystem.root().startsWith(dataDir)) {
        continue;
      }
      for (SnapshotKind kind : SnapshotKind.values()) {
        Path folder = filesystem.root().resolve(entry.block().bucket(kind));
        if (Files.isDirectory(folder)) {
          continue;
        }
        try {
          PrivateFiles.createFolder(folder);
          log.info("created {} in ballast.data_dir for {}", folder, entry.bucketKey(kind));
        } catch (IOException e) {
          throw new UncheckedIOException(
              "cannot create " + folder + " for " + entry.bucketKey(kind), e);
        }
      }
    }
  }

  /**
   * A control plane's check at start: a bucket that does not exist stops it with one line naming
   * the key, the backend, the bucket and where it was looked for. Storage that cannot answer now
   * (unreachable, slow, access denied) does not stop it: the exporter reports and retries.
   *
   * @throws ConfigException for the first missing bucket: storage blocks in the file's order, each
   *     block's resource bucket before its config bucket
   */
  void requireBuckets() {
    List<Mono<Optional<ConfigException>>> checks = new ArrayList<>();
    for (Backend entry : backends) {
      for (SnapshotKind kind : SnapshotKind.values()) {
        String key = entry.bucketKey(kind);
        checks.add(
            entry
                .bucket(kind)
                .checkExists()
                .timeout(START_CHECK)
                .then(Mono.just(Optional.<ConfigException>empty()))
                .onErrorResume(
                    error -> {
                      if (error instanceof MissingBucketException missing) {
                        return Mono.just(
                            Optional.of(
                                new ConfigException(
                                    entry.block().block().file(), key, missing.getMessage())));
                      }
                      log.warn(
                          "{}: cannot tell at start whether the bucket exists ({}); exporting"
                              + " will retry",
                          key,
                          error.getMessage() == null ? error.toString() : error.getMessage());
                      return Mono.just(Optional.empty());
                    }));
      }
    }
    List<Optional<ConfigException>> results =
        Flux.fromIterable(checks).flatMapSequential(check -> check).collectList().block();
    for (Optional<ConfigException> result : results) {
      if (result.isPresent()) {
        throw result.get();
      }
    }
  }

  /** Every bucket a data plane reads, named by its key, for {@link BucketWatch}. */
  List<BucketWatch.Bucket> buckets() {
    List<BucketWatch.Bucket> buckets = new ArrayList<>();
    for (Backend entry : backends) {
      for (SnapshotKind kind : SnapshotKind.values()) {
        buckets.add(new BucketWatch.Bucket(entry.bucketKey(kind), entry.bucket(kind)));
      }
    }
    return buckets;
  }

  @Override
  public void close() {
    for (Backend entry : backends) {
      try {
        entry.backend().close();
      } catch (RuntimeException e) {
        log.warn("error while closing {}: {}", entry.block().path(), e.toString());
      }
    }
  }
}
