package io.ballast.controlplane.store;

import io.ballast.fs.DurableFiles;
import io.ballast.fs.PrivateFiles;
import io.ballast.resource.IgnoredFields;
import io.ballast.resource.Json;
import io.ballast.resource.ParseMode;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceReference;
import io.ballast.resource.ResourceType;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The control plane's source of truth: gateway resources in a local folder.
 *
 * <p>Every write is appended to {@code wal.ndjson} and forced to disk before the method returns, so
 * an acknowledged write survives the process being killed. On open the store reads {@code
 * checkpoint.ndjson}, replays the log over it, and folds a long log into a new checkpoint. The
 * revision counts every write and keeps counting across restarts and compactions.
 *
 * <p>Writes are serialized; reads never wait for them: the state is an immutable {@link StoreView}
 * swapped by reference after each write.
 */
public final class ConfigStore implements Closeable {

  static final int DEFAULT_COMPACT_AFTER = 10_000;
  private static final String LOCK_FILE = "store.lock";
  private static final Logger log = LoggerFactory.getLogger(ConfigStore.class);

  private final Path dir;
  private final JsonMapper mapper;
  private final Clock clock;
  private final int compactAfter;
  private final FileChannel lockChannel;
  private final WriteAheadLog wal;
  private final ReentrantLock writeLock = new ReentrantLock();
  private final Sinks.Many<Long> revisions = Sinks.many().replay().latest();
  private volatile StoreView view;
  // Guarded by writeLock. After a failed disk write the log's tail is unknown: refuse more writes.
  private IOException failure;
  private boolean closed;

  private ConfigStore(
      Path dir,
      JsonMapper mapper,
      Clock clock,
      int compactAfter,
      FileChannel lockChannel,
      WriteAheadLog wal,
      StoreView view) {
    this.dir = dir;
    this.mapper = mapper;
    this.clock = clock;
    this.compactAfter = compactAfter;
    this.lockChannel = lockChannel;
    this.wal = wal;
    this.view = view;
    revisions.tryEmitNext(view.revision());
  }

  /** Opens the store in {@code dir}, creating the folder if needed. */
  public static ConfigStore open(Path dir) {
    return open(dir, Clock.systemUTC(), DEFAULT_COMPACT_AFTER);
  }

  static ConfigStore open(Path dir, Clock clock, int compactAfter) {
    JsonMapper mapper = Json.mapper();
    FileChannel lockChannel = null;
    try {
      PrivateFiles.createFolder(dir);
      lockChannel = lock(dir);
      Files.deleteIfExists(DurableFiles.tempOf(dir.resolve(Checkpoint.FILE)));
      StoreView loaded = Checkpoint.read(dir, mapper);
      Replay replay = replay(dir, mapper, loaded);
      WriteAheadLog wal = WriteAheadLog.open(dir, replay.entries());
      ConfigStore store =
          new ConfigStore(dir, mapper, clock, compactAfter, lockChannel, wal, replay.view());
      if (wal.entries() > compactAfter) {
        try {
          store.compact();
        } catch (IOException | RuntimeException e) {
          store.close();
          throw e;
        }
      }
      log.info(
          "Opened config store {} at revision {} with {} resources",
          dir,
          replay.view().revision(),
          replay.view().size());
      warnOfIgnoredFields(dir, replay.view());
      return store;
    } catch (IOException e) {
      closeQuietly(lockChannel);
      throw new UncheckedIOException("cannot open config store " + dir + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly(lockChannel);
      throw e;
    }
  }

  /** The current content; later writes do not change it. */
  public StoreView view() {
    return view;
  }

  public long revision() {
    return view.revision();
  }

  public Optional<StoredResource> get(ResourceType type, String id) {
    return view.get(type, id);
  }

  /**
   * The revision after each write, starting with the current one for every subscriber. Completes
   * when the store closes. A subscriber that falls behind gets the newest revision, not every one:
   * a revision says "the store changed up to here".
   */
  public Flux<Long> revisions() {
    return revisions.asFlux().onBackpressureLatest();
  }

  /**
   * Creates or replaces a resource, durably. The stored value gets APISIX's {@code create_time}
   * (kept from the resource's first version) and {@code update_time}, in epoch seconds. {@link
   * StoredResource#created()} says whether this call created it.
   *
   * @throws StoreConflictException if the resource names an upstream or service that does not exist
   */
  public StoredResource put(Resource resource) {
    Objects.requireNonNull(resource, "resource");
    writeLock.lock();
    try {
      checkWritable();
      StoreView current = view;
      checkReferencesExist(current, resource);
      Optional<StoredResource> previous = current.get(resource.type(), resource.id());
      long revision = current.revision() + 1;
      long createdIndex = previous.map(StoredResource::createdIndex).orElse(revision);
      ObjectNode value = stamp(resource.value(), previous);
      // Read before it is logged: the log never holds what a restart could not read back.
      Resource stamped = Resource.parse(resource.type(), resource.id(), value);
      append(WalEntry.put(revision, resource.type(), resource.id(), value, createdIndex));
      StoredResource stored = new StoredResource(stamped, createdIndex, revision);
      publish(current.with(stored, revision));
      return stored;
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * Deletes a resource, durably, and returns what it was; empty (and no write) when it did not
   * exist.
   *
   * @throws StoreConflictException if a route or service still refers to it
   */
  public Optional<StoredResource> delete(ResourceType type, String id) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(id, "id");
    writeLock.lock();
    try {
      checkWritable();
      StoreView current = view;
      Optional<StoredResource> previous = current.get(type, id);
      if (previous.isEmpty()) {
        return previous;
      }
      checkNotReferenced(current, type, id);
      long revision = current.revision() + 1;
      append(WalEntry.delete(revision, type, id));
      publish(current.without(type, id, revision));
      return previous;
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * Moves the revision one step without changing a resource, durably (a checkpoint at the new
   * revision): for a change outside the store that must still give the next export a higher
   * version, such as the CP's node-level settings after a restart with another file.
   *
   * @return the new revision
   */
  public long bumpRevision(String reason) {
    writeLock.lock();
    try {
      checkWritable();
      StoreView next = view.atRevision(view.revision() + 1);
      view = next;
      compact();
      log.info("Config store {} moved to revision {}: {}", dir, next.revision(), reason);
      revisions.tryEmitNext(next.revision());
      return next.revision();
    } catch (IOException e) {
      failure = e;
      throw new UncheckedIOException(
          "cannot write a checkpoint of config store " + dir + ": " + e.getMessage(), e);
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * Writes a checkpoint of the whole state now and empties the log it supersedes, so that no line
   * of the log keeps a value later writes replaced (after secrets were sealed, say).
   */
  public void checkpoint() {
    writeLock.lock();
    try {
      checkWritable();
      compact();
    } catch (IOException e) {
      failure = e;
      throw new UncheckedIOException(
          "cannot write a checkpoint of config store " + dir + ": " + e.getMessage(), e);
    } finally {
      writeLock.unlock();
    }
  }

  @Override
  public void close() {
    writeLock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      closeQuietly(wal);
      closeQuietly(lockChannel);
      revisions.tryEmitComplete();
    } finally {
      writeLock.unlock();
    }
  }

  private void checkWritable() {
    if (closed) {
      throw new IllegalStateException("config store " + dir + " is closed");
    }
    if (failure != null) {
      throw new IllegalStateException(
          "config store "
              + dir
              + " refuses writes after a failed disk write ("
              + failure.getMessage()
              + "); restart to recover from its log",
          failure);
    }
  }

  private void append(WalEntry entry) {
    try {
      wal.append(entry.toLine(mapper));
    } catch (IOException e) {
      failure = e;
      throw new UncheckedIOException(
          "cannot write "
              + entry.type().singular()
              + " '"
              + entry.id()
              + "' to "
              + dir.resolve(WriteAheadLog.FILE)
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private void publish(StoreView next) {
    view = next;
    revisions.tryEmitNext(next.revision());
    if (wal.entries() > compactAfter) {
      try {
        compact();
      } catch (IOException e) {
        // The write itself is durable in the log; only further writes are refused.
        failure = e;
        log.error("Compacting config store {} failed; it now refuses writes", dir, e);
      }
    }
  }

  /** Writes the whole state as a checkpoint, then empties the log it supersedes. */
  private void compact() throws IOException {
    StoreView current = view;
    Checkpoint.write(dir, current, mapper);
    // A crash here leaves log entries the checkpoint already holds; replay skips them by revision.
    wal.reset();
    log.info("Compacted config store {} at revision {}", dir, current.revision());
  }

  private ObjectNode stamp(ObjectNode value, Optional<StoredResource> previous) {
    long now = clock.instant().getEpochSecond();
    ObjectNode stamped = value.deepCopy();
    JsonNode createTime =
        previous.map(p -> p.resource().value().get("create_time")).orElse(value.get("create_time"));
    if (createTime != null && createTime.isIntegralNumber()) {
      stamped.set("create_time", createTime);
    } else {
      putSeconds(stamped, "create_time", now);
    }
    putSeconds(stamped, "update_time", now);
    return stamped;
  }

  /**
   * Stores seconds as the node type a reader of the log will build (an int node while it fits), so
   * that a value equals itself after a restart.
   */
  private static void putSeconds(ObjectNode value, String field, long seconds) {
    if (seconds == (int) seconds) {
      value.put(field, (int) seconds);
    } else {
      value.put(field, seconds);
    }
  }

  private static void checkReferencesExist(StoreView current, Resource resource) {
    for (ResourceReference reference : ResourceReference.ALL) {
      Optional<String> target = reference.target(resource);
      if (target.isPresent() && current.get(reference.to(), target.get()).isEmpty()) {
        throw new StoreConflictException(
            resource.type().singular()
                + " '"
                + resource.id()
                + "': "
                + reference.field()
                + " '"
                + target.get()
                + "' does not exist (failed to fetch "
                + reference.to().singular()
                + " info by "
                + reference.to().singular()
                + " id ["
                + target.get()
                + "])");
      }
    }
  }

  private static void checkNotReferenced(StoreView current, ResourceType type, String id) {
    for (ResourceReference reference : ResourceReference.ALL) {
      if (reference.to() != type) {
        continue;
      }
      for (StoredResource referrer : current.resources(reference.from()).values()) {
        Optional<String> target = reference.target(referrer.resource());
        if (target.isPresent() && target.get().equals(id)) {
          throw new StoreConflictException(
              "can not delete "
                  + type.singular()
                  + " '"
                  + id
                  + "': "
                  + reference.from().singular()
                  + " '"
                  + referrer.resource().id()
                  + "' is still using it ("
                  + reference.field()
                  + ")");
        }
      }
    }
  }

  /**
   * Written by an earlier Ballast, which accepted fields this one refuses at the Admin API: they
   * are read tolerantly (the CP must start, and serve what it served) and named once here. A write
   * of such a resource through the Admin API must drop them.
   */
  private static void warnOfIgnoredFields(Path dir, StoreView view) {
    IgnoredFields.describe(view.inCanonicalOrder().map(StoredResource::resource).toList())
        .ifPresent(
            ignored ->
                log.warn(
                    "Config store {} holds fields this version of Ballast does not accept; they"
                        + " are kept as written and ignored, and a change through the Admin API"
                        + " must drop them: {}",
                    dir,
                    ignored));
  }

  private record Replay(StoreView view, long entries) {}

  private static Replay replay(Path dir, JsonMapper mapper, StoreView checkpoint)
      throws IOException {
    Path file = dir.resolve(WriteAheadLog.FILE);
    if (!Files.exists(file)) {
      return new Replay(checkpoint, 0);
    }
    Map<ResourceType, TreeMap<String, StoredResource>> maps = new EnumMap<>(ResourceType.class);
    for (ResourceType type : ResourceType.values()) {
      maps.put(type, new TreeMap<>(checkpoint.resources(type)));
    }
    long[] revision = {checkpoint.revision()};
    JsonLines.Result result =
        JsonLines.read(
            file,
            mapper,
            (lineNumber, node) -> {
              WalEntry entry = WalEntry.fromJson(node);
              if (entry.rev() <= checkpoint.revision()) {
                return; // already in the checkpoint: the log was not emptied after compaction
              }
              if (entry.rev() <= revision[0]) {
                throw new IllegalArgumentException(
                    "revision " + entry.rev() + " does not follow revision " + revision[0]);
              }
              revision[0] = entry.rev();
              TreeMap<String, StoredResource> map = maps.get(entry.type());
              if (entry.isPut()) {
                Resource resource =
                    Resource.parse(entry.type(), entry.id(), entry.value(), ParseMode.TOLERANT);
                map.put(
                    entry.id(), new StoredResource(resource, entry.createdIndex(), entry.rev()));
              } else {
                map.remove(entry.id());
              }
            });
    if (result.tornTail()) {
      log.warn(
          "Config store log {} ends with an incomplete line after line {} (a write cut short);"
              + " dropping it",
          file,
          result.lines());
      WriteAheadLog.truncate(dir, result.completeBytes());
    }
    return new Replay(StoreView.of(revision[0], maps), result.lines());
  }

  /** One process per store folder: a second one would interleave its log lines. */
  private static FileChannel lock(Path dir) throws IOException {
    FileChannel channel =
        PrivateFiles.open(
            dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null; // held by this same process
      }
      if (lock == null) {
        throw new IllegalStateException(
            "config store " + dir + " is in use by another process (" + LOCK_FILE + " is locked)");
      }
      return channel;
    } catch (RuntimeException | IOException e) {
      channel.close();
      throw e;
    }
  }

  private static void closeQuietly(Closeable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (IOException e) {
      log.warn("Closing config store file failed", e);
    }
  }
}
