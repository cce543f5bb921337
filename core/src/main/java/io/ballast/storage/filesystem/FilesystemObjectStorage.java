package io.ballast.storage.filesystem;

import io.ballast.fs.DurableFiles;
import io.ballast.fs.PrivateFiles;
import io.ballast.storage.AccessDeniedException;
import io.ballast.storage.ChecksumMismatchException;
import io.ballast.storage.ConditionFailedException;
import io.ballast.storage.ETag;
import io.ballast.storage.MissingBucketException;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.StorageException;
import io.ballast.storage.StorageUnavailableException;
import io.ballast.storage.WriteCondition;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SynchronousSink;
import reactor.core.scheduler.Schedulers;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * One bucket as a folder. Each object is a single file at {@code <bucket>/<key>}: one header line,
 * then the raw body bytes.
 *
 * <pre>
 * BALLAST-OBJECT 1 {"etag":"\"9f86d0…\"","size":1234,"last_modified":"2026-01-01T00:00:00Z","metadata":{"sha256":"…"}}
 * &lt;body bytes&gt;
 * </pre>
 *
 * <p>Header and body live in one file so that the ETag and the user metadata change atomically with
 * the content. The ETag is derived from the content: {@code "} + lower-case hex SHA-256 of the body
 * + {@code "}. To read a gzip body by hand: {@code tail -n +2 FILE | gunzip}.
 *
 * <p>A write streams the body into {@code <bucket>/.ballast/tmp/} (the same filesystem), checks
 * length and checksum, prefixes the header, fsyncs, and renames the file into place atomically;
 * readers see the old file or the new one, never a part. The condition check and the rename run
 * under a lock held both within this JVM and, through {@code <bucket>/.ballast/lock}, across
 * processes, so of concurrent conditional writers exactly one wins. Keys whose first segment is
 * {@code .ballast} are reserved for this.
 *
 * <p>The bucket folder must exist, as an S3 bucket must: nothing here creates it, and every
 * operation on a missing one fails with {@link MissingBucketException} (a typo or an unmounted
 * volume would otherwise be filled silently, or read as empty).
 *
 * <p>Unlike a blob store, a key cannot be both an object and the folder of other objects ({@code a}
 * and {@code a/b}); such a write fails with {@link IllegalArgumentException}. Snapshot layouts
 * never do this.
 */
final class FilesystemObjectStorage implements ObjectStorage {

  private static final String RESERVED = ".ballast";
  private static final String MAGIC = "BALLAST-OBJECT 1 ";
  private static final int MAX_HEADER = 1 << 20;
  private static final int CHUNK = 64 * 1024;
  private static final JsonMapper JSON = JsonMapper.builder().build();

  /**
   * The in-JVM half of the write lock, one per bucket folder. Shared by every instance in the JVM
   * because a {@link FileLock} is held per process: a second lock on the same file from this JVM
   * throws instead of waiting, so threads must queue here before taking it.
   */
  private static final ConcurrentHashMap<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

  private final Path bucket;
  private final Path tmpDir;
  private final Path lockFile;
  private final String description;

  FilesystemObjectStorage(Path bucket) {
    this.bucket = bucket.toAbsolutePath().normalize();
    this.tmpDir = this.bucket.resolve(RESERVED).resolve("tmp");
    this.lockFile = this.bucket.resolve(RESERVED).resolve("lock");
    this.description = "filesystem:" + this.bucket;
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public String toString() {
    return description;
  }

  @Override
  public Mono<Void> checkExists() {
    return Mono.<Void>fromCallable(
            () -> {
              requireBucket();
              return null;
            })
        .subscribeOn(Schedulers.boundedElastic());
  }

  /** Fails unless the bucket folder exists; called before every operation touches it. */
  private void requireBucket() {
    if (Files.isDirectory(bucket)) {
      return;
    }
    String name = bucket.getFileName().toString();
    throw new MissingBucketException(
        name,
        "filesystem bucket '"
            + name
            + "' does not exist: "
            + (Files.exists(bucket) ? bucket + " is not a folder" : "no folder " + bucket)
            + " (buckets are never created; create the folder)");
  }

  // ---------------------------------------------------------------------------------------------
  // put

  @Override
  public Mono<ObjectMeta> put(ObjectKey key, Flux<ByteBuffer> body, PutOptions options) {
    return Mono.defer(
            () -> {
              checkNotReserved(key);
              requireBucket();
              return Mono.using(
                  () -> Upload.open(tmpDir),
                  upload ->
                      body.publishOn(Schedulers.boundedElastic(), 2)
                          .doOnNext(upload::write)
                          .then(Mono.fromCallable(() -> commit(key, upload, options))),
                  Upload::discard);
            })
        .subscribeOn(Schedulers.boundedElastic())
        .onErrorMap(e -> isIo(e), e -> ioFailure("write", key, e));
  }

  private ObjectMeta commit(ObjectKey key, Upload upload, PutOptions options) throws Exception {
    String sha256 = HexFormat.of().formatHex(upload.digest.digest());
    if (options.contentLength() >= 0 && options.contentLength() != upload.size) {
      throw new ChecksumMismatchException(
          "object '"
              + key
              + "' in "
              + description
              + ": body is "
              + upload.size
              + " bytes, expected "
              + options.contentLength());
    }
    if (options.sha256Hex() != null && !options.sha256Hex().equals(sha256)) {
      throw new ChecksumMismatchException(
          "object '"
              + key
              + "' in "
              + description
              + ": body SHA-256 is "
              + sha256
              + ", expected "
              + options.sha256Hex());
    }
    ObjectMeta meta =
        new ObjectMeta(
            key, new ETag("\"" + sha256 + "\""), upload.size, Instant.now(), options.metadata());
    upload.writeObjectFile(header(meta));

    Path target = resolve(key);
    return underWriteLock(
        () -> {
          if (Files.isDirectory(target)) {
            throw new IllegalArgumentException(
                "object key '" + key + "' is a folder of other objects in " + description);
          }
          checkCondition(key, target, options.condition());
          try {
            PrivateFiles.createFolder(target.getParent());
          } catch (FileAlreadyExistsException e) {
            throw new IllegalArgumentException(
                "object key '" + key + "' lies below another object in " + description, e);
          }
          Files.move(upload.objectFile, target, StandardCopyOption.ATOMIC_MOVE);
          fsyncDirectory(target.getParent());
          return meta;
        });
  }

  private void checkCondition(ObjectKey key, Path target, WriteCondition condition)
      throws IOException {
    if (condition instanceof WriteCondition.IfAbsent && Files.exists(target)) {
      throw new ConditionFailedException(
          "object '" + key + "' in " + description + " already exists (If-None-Match: *)");
    }
    if (condition instanceof WriteCondition.IfMatch ifMatch) {
      ObjectMeta current = readMeta(key, target);
      if (current == null) {
        throw new ConditionFailedException(
            "object '"
                + key
                + "' in "
                + description
                + " does not exist (If-Match: "
                + ifMatch.etag()
                + ")");
      }
      if (!current.etag().equals(ifMatch.etag())) {
        throw new ConditionFailedException(
            "object '"
                + key
                + "' in "
                + description
                + " has ETag "
                + current.etag()
                + ", not "
                + ifMatch.etag()
                + " (If-Match)");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // get, head, list, delete

  @Override
  public Mono<ReadResult> get(ObjectKey key, ReadCondition condition) {
    return Mono.fromCallable(() -> open(key, condition))
        .subscribeOn(Schedulers.boundedElastic())
        .onErrorMap(e -> isIo(e), e -> ioFailure("read", key, e));
  }

  private ReadResult open(ObjectKey key, ReadCondition condition) throws IOException {
    checkNotReserved(key);
    requireBucket();
    Path file = resolve(key);
    if (Files.isDirectory(file)) {
      // A folder of other objects, not an object.
      return new ReadResult.NotFound(key);
    }
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (NoSuchFileException | NotDirectoryException e) {
      return new ReadResult.NotFound(key);
    }
    boolean handedOver = false;
    try {
      Header header = readHeader(key, channel);
      if (condition instanceof ReadCondition.IfNoneMatch ifNoneMatch
          && ifNoneMatch.etag().equals(header.meta.etag())) {
        return new ReadResult.NotModified(key, header.meta.etag());
      }
      // The channel stays open: a concurrent replace renames a new file over the name, and this
      // read keeps streaming the file it opened.
      Flux<ByteBuffer> bodyFlux =
          Flux.using(
                  () -> channel,
                  ch -> Flux.generate(() -> header.bodyOffset, bodyReader(ch)),
                  FilesystemObjectStorage::closeQuietly)
              .subscribeOn(Schedulers.boundedElastic())
              .onErrorMap(e -> isIo(e), e -> ioFailure("read", key, e));
      handedOver = true;
      return new ReadResult.Found(header.meta, bodyFlux);
    } finally {
      if (!handedOver) {
        closeQuietly(channel);
      }
    }
  }

  /** Emits the body in chunks from {@code channel}; the state is the next file position. */
  private static BiFunction<Long, SynchronousSink<ByteBuffer>, Long> bodyReader(
      FileChannel channel) {
    return (position, sink) -> {
      ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
      long next = position;
      boolean end = false;
      try {
        while (buffer.hasRemaining() && !end) {
          int n = channel.read(buffer, next);
          if (n < 0) {
            end = true;
          } else {
            next += n;
          }
        }
      } catch (IOException e) {
        sink.error(e);
        return next;
      }
      if (buffer.position() > 0) {
        sink.next(buffer.flip());
      }
      if (end) {
        sink.complete();
      }
      return next;
    };
  }

  @Override
  public Mono<ObjectMeta> head(ObjectKey key) {
    return Mono.fromCallable(
            () -> {
              checkNotReserved(key);
              requireBucket();
              return readMeta(key, resolve(key));
            })
        .subscribeOn(Schedulers.boundedElastic())
        .onErrorMap(e -> isIo(e), e -> ioFailure("read", key, e));
  }

  @Override
  public Flux<ObjectMeta> list(ObjectKey prefix) {
    return Mono.fromCallable(
            () -> {
              checkNotReserved(prefix);
              requireBucket();
              return keysBelow(prefix);
            })
        .flatMapIterable(keys -> keys)
        .concatMap(
            key ->
                Mono.fromCallable(() -> readMeta(key, resolve(key)))
                    .onErrorMap(e -> isIo(e), e -> ioFailure("list", key, e)))
        .subscribeOn(Schedulers.boundedElastic())
        .onErrorMap(e -> isIo(e), e -> ioFailure("list", prefix, e));
  }

  private List<ObjectKey> keysBelow(ObjectKey prefix) throws IOException {
    Path folder = resolve(prefix);
    if (!Files.isDirectory(folder)) {
      return List.of();
    }
    List<ObjectKey> keys = new ArrayList<>();
    try (Stream<Path> files = Files.walk(folder)) {
      files
          .filter(Files::isRegularFile)
          .map(file -> toKey(prefix, folder.relativize(file)))
          .filter(key -> key != null)
          .forEach(keys::add);
    } catch (UncheckedIOException e) {
      // A folder removed by a concurrent delete while walking it.
      if (!(e.getCause() instanceof NoSuchFileException)) {
        throw e.getCause();
      }
    }
    keys.sort(null);
    return keys;
  }

  private static ObjectKey toKey(ObjectKey prefix, Path relative) {
    StringBuilder name = new StringBuilder(prefix.value());
    for (Path segment : relative) {
      name.append('/').append(segment);
    }
    try {
      return ObjectKey.of(name.toString());
    } catch (IllegalArgumentException e) {
      // A file no put could have made (a backslash in its name, say): not an object.
      return null;
    }
  }

  @Override
  public Mono<Void> delete(ObjectKey key) {
    return Mono.<Void>fromCallable(
            () -> {
              checkNotReserved(key);
              requireBucket();
              Path target = resolve(key);
              return underWriteLock(
                  () -> {
                    if (Files.isRegularFile(target)) {
                      Files.delete(target);
                      removeEmptyFolders(target.getParent());
                    }
                    return null;
                  });
            })
        .subscribeOn(Schedulers.boundedElastic())
        .onErrorMap(e -> isIo(e), e -> ioFailure("delete", key, e));
  }

  /** Removes the folders a delete emptied, so that their names can become keys again. */
  private void removeEmptyFolders(Path folder) throws IOException {
    Path current = folder;
    while (current != null && !current.equals(bucket) && current.startsWith(bucket)) {
      try {
        Files.delete(current);
      } catch (DirectoryNotEmptyException | NoSuchFileException e) {
        break;
      }
      current = current.getParent();
    }
    fsyncDirectory(current == null ? bucket : current);
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  private Path resolve(ObjectKey key) {
    // ObjectKey refuses '..', '.', empty segments and backslashes, so this stays inside bucket.
    return bucket.resolve(key.value());
  }

  private void checkNotReserved(ObjectKey key) {
    String first = key.value().split("/", 2)[0];
    if (first.equals(RESERVED)) {
      throw new IllegalArgumentException(
          "object key '"
              + key
              + "' is reserved: '"
              + RESERVED
              + "/' holds "
              + description
              + " internals");
    }
  }

  /** Runs {@code action} holding the bucket's lock in this JVM, then across processes. */
  private <T> T underWriteLock(Callable<T> action) throws Exception {
    ReentrantLock jvmLock = JVM_LOCKS.computeIfAbsent(bucket, b -> new ReentrantLock());
    jvmLock.lock();
    try {
      // Checked again under the lock: a bucket removed since the write began is not re-created.
      requireBucket();
      PrivateFiles.createFolder(lockFile.getParent());
      try (FileChannel channel =
              PrivateFiles.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock ignored = channel.lock()) {
        return action.call();
      }
    } finally {
      jvmLock.unlock();
    }
  }

  /** The object's metadata, or null when there is no object file at {@code file}. */
  private ObjectMeta readMeta(ObjectKey key, Path file) throws IOException {
    if (Files.isDirectory(file)) {
      return null;
    }
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      return readHeader(key, channel).meta;
    } catch (NoSuchFileException | NotDirectoryException e) {
      return null;
    }
  }

  private record Header(ObjectMeta meta, long bodyOffset) {}

  /** Parses the header line. */
  private Header readHeader(ObjectKey key, FileChannel channel) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(8192);
    byte[] line = null;
    long position = 0;
    while (line == null) {
      if (!buffer.hasRemaining()) {
        if (buffer.capacity() >= MAX_HEADER) {
          throw notAnObject(key, "header line longer than " + MAX_HEADER + " bytes");
        }
        buffer = ByteBuffer.allocate(buffer.capacity() * 4).put(buffer.flip());
      }
      int from = buffer.position();
      int n = channel.read(buffer, position);
      if (n < 0) {
        throw notAnObject(key, "no header line");
      }
      position += n;
      for (int i = from; i < buffer.position(); i++) {
        if (buffer.get(i) == '\n') {
          line = new byte[i];
          buffer.get(0, line);
          break;
        }
      }
    }
    String text = new String(line, StandardCharsets.UTF_8);
    if (!text.startsWith(MAGIC)) {
      throw notAnObject(key, "does not start with '" + MAGIC.trim() + "'");
    }
    try {
      JsonNode json = JSON.readTree(text.substring(MAGIC.length()));
      Map<String, String> metadata = new LinkedHashMap<>();
      JsonNode metaNode = json.path("metadata");
      for (Map.Entry<String, JsonNode> e : metaNode.properties()) {
        metadata.put(e.getKey(), e.getValue().asString());
      }
      ObjectMeta meta =
          new ObjectMeta(
              key,
              new ETag(json.required("etag").asString()),
              json.required("size").asLong(),
              Instant.parse(json.required("last_modified").asString()),
              metadata);
      return new Header(meta, line.length + 1L);
    } catch (JacksonException | DateTimeParseException | IllegalArgumentException e) {
      throw notAnObject(key, "unreadable header: " + e.getMessage());
    }
  }

  private static String header(ObjectMeta meta) {
    ObjectNode json = JSON.createObjectNode();
    json.put("etag", meta.etag().value());
    json.put("size", meta.size());
    json.put("last_modified", meta.lastModified().toString());
    ObjectNode metadata = json.putObject("metadata");
    meta.metadata().entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> metadata.put(e.getKey(), e.getValue()));
    // Jackson escapes control characters in strings, so the header stays one line.
    return MAGIC + JSON.writeValueAsString(json) + "\n";
  }

  private StorageUnavailableException notAnObject(ObjectKey key, String problem) {
    return new StorageUnavailableException(
        "object '" + key + "' in " + description + " is not a Ballast object file: " + problem);
  }

  private static boolean isIo(Throwable e) {
    return e instanceof IOException || e instanceof UncheckedIOException;
  }

  private StorageException ioFailure(String action, ObjectKey key, Throwable e) {
    Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
    String message = "cannot " + action + " object '" + key + "' in " + description + ": " + cause;
    if (cause instanceof java.nio.file.AccessDeniedException) {
      return new AccessDeniedException(message, cause);
    }
    return new StorageUnavailableException(message, cause);
  }

  private static void fsyncDirectory(Path directory) {
    try {
      DurableFiles.syncDirectory(directory);
    } catch (IOException e) {
      // Some platforms (Windows) refuse to open or sync a directory; the rename is still atomic.
    }
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // Read-only channel: nothing was lost.
    }
  }

  /** A body being streamed into a temp file, with its running SHA-256 and size. */
  private static final class Upload {
    final Path bodyFile;
    final Path objectFile;
    final FileChannel body;
    final MessageDigest digest;
    long size;

    private Upload(Path tmpDir) throws IOException {
      String id = UUID.randomUUID().toString();
      this.bodyFile = tmpDir.resolve(id + ".body");
      this.objectFile = tmpDir.resolve(id + ".object");
      try {
        this.digest = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("every JVM has SHA-256", e);
      }
      this.body =
          PrivateFiles.open(
              bodyFile,
              StandardOpenOption.CREATE_NEW,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE);
    }

    static Upload open(Path tmpDir) throws IOException {
      PrivateFiles.createFolder(tmpDir);
      return new Upload(tmpDir);
    }

    void write(ByteBuffer buffer) {
      digest.update(buffer.duplicate());
      ByteBuffer source = buffer.duplicate();
      try {
        while (source.hasRemaining()) {
          size += body.write(source);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Writes header and body into the file that will be renamed into place. */
    void writeObjectFile(String header) throws IOException {
      try (FileChannel out =
          PrivateFiles.open(objectFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer head = ByteBuffer.wrap(header.getBytes(StandardCharsets.UTF_8));
        while (head.hasRemaining()) {
          out.write(head);
        }
        long copied = 0;
        while (copied < size) {
          copied += body.transferTo(copied, size - copied, out);
        }
        out.force(true);
      }
    }

    void discard() {
      try {
        body.close();
      } catch (IOException e) {
        // Deleted below either way.
      }
      try {
        Files.deleteIfExists(bodyFile);
        Files.deleteIfExists(objectFile);
      } catch (IOException e) {
        // A leftover temp file is ignored by every read and costs only disk space.
      }
    }
  }
}
