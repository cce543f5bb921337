package io.ballast.storage.memory;

import io.ballast.storage.ChecksumMismatchException;
import io.ballast.storage.ConditionFailedException;
import io.ballast.storage.ETag;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.WriteCondition;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * An {@link ObjectStorage} in a map, for fast tests of code above the SPI. Same contract as a real
 * backend ({@code MemoryObjectStorageTest} proves it): conditions are checked and applied in one
 * synchronized step, so of concurrent conditional writers exactly one wins. Bodies are kept as the
 * chunks they arrived in, so a large body costs its size and no more.
 */
public final class MemoryObjectStorage implements ObjectStorage {

  private record Stored(ObjectMeta meta, List<ByteBuffer> chunks) {}

  private final String name;
  private final TreeMap<ObjectKey, Stored> objects = new TreeMap<>();
  private final AtomicLong generation = new AtomicLong();

  public MemoryObjectStorage() {
    this("test");
  }

  public MemoryObjectStorage(String name) {
    this.name = name;
  }

  @Override
  public String describe() {
    return "memory:" + name;
  }

  /** A bucket in memory exists from its construction on. */
  @Override
  public Mono<Void> checkExists() {
    return Mono.empty();
  }

  @Override
  public Mono<ObjectMeta> put(ObjectKey key, Flux<ByteBuffer> body, PutOptions options) {
    return Mono.defer(
        () -> {
          MessageDigest digest = sha256();
          return body.map(
                  buffer -> {
                    ByteBuffer copy = ByteBuffer.allocate(buffer.remaining());
                    copy.put(buffer.duplicate()).flip();
                    digest.update(copy.duplicate());
                    return copy.asReadOnlyBuffer();
                  })
              .collectList()
              .map(
                  chunks -> store(key, chunks, HexFormat.of().formatHex(digest.digest()), options));
        });
  }

  private ObjectMeta store(
      ObjectKey key, List<ByteBuffer> chunks, String sha256, PutOptions options) {
    long size = chunks.stream().mapToLong(ByteBuffer::remaining).sum();
    if (options.contentLength() >= 0 && options.contentLength() != size) {
      throw new ChecksumMismatchException(
          "object '"
              + key
              + "' in "
              + describe()
              + ": body is "
              + size
              + " bytes, expected "
              + options.contentLength());
    }
    if (options.sha256Hex() != null && !options.sha256Hex().equals(sha256)) {
      throw new ChecksumMismatchException(
          "object '"
              + key
              + "' in "
              + describe()
              + ": body SHA-256 is "
              + sha256
              + ", expected "
              + options.sha256Hex());
    }
    synchronized (objects) {
      Stored current = objects.get(key);
      WriteCondition condition = options.condition();
      if (condition instanceof WriteCondition.IfAbsent && current != null) {
        throw new ConditionFailedException(
            "object '" + key + "' in " + describe() + " already exists (If-None-Match: *)");
      }
      if (condition instanceof WriteCondition.IfMatch ifMatch
          && (current == null || !current.meta().etag().equals(ifMatch.etag()))) {
        throw new ConditionFailedException(
            "object '"
                + key
                + "' in "
                + describe()
                + " does not have ETag "
                + ifMatch.etag()
                + " (If-Match)");
      }
      ETag etag = new ETag("\"" + generation.incrementAndGet() + "-" + sha256 + "\"");
      ObjectMeta meta = new ObjectMeta(key, etag, size, Instant.now(), options.metadata());
      objects.put(key, new Stored(meta, List.copyOf(chunks)));
      return meta;
    }
  }

  @Override
  public Mono<ReadResult> get(ObjectKey key, ReadCondition condition) {
    return Mono.fromCallable(
        () -> {
          Stored stored;
          synchronized (objects) {
            stored = objects.get(key);
          }
          if (stored == null) {
            return new ReadResult.NotFound(key);
          }
          if (condition instanceof ReadCondition.IfNoneMatch ifNoneMatch
              && ifNoneMatch.etag().equals(stored.meta().etag())) {
            return new ReadResult.NotModified(key, stored.meta().etag());
          }
          return new ReadResult.Found(
              stored.meta(), Flux.fromIterable(stored.chunks()).map(ByteBuffer::duplicate));
        });
  }

  @Override
  public Mono<ObjectMeta> head(ObjectKey key) {
    return Mono.fromCallable(
        () -> {
          synchronized (objects) {
            Stored stored = objects.get(key);
            return stored == null ? null : stored.meta();
          }
        });
  }

  @Override
  public Flux<ObjectMeta> list(ObjectKey prefix) {
    return Flux.defer(
        () -> {
          String start = prefix.value() + "/";
          List<ObjectMeta> found = new ArrayList<>();
          synchronized (objects) {
            for (Map.Entry<ObjectKey, Stored> entry : objects.entrySet()) {
              if (entry.getKey().value().startsWith(start)) {
                found.add(entry.getValue().meta());
              }
            }
          }
          return Flux.fromIterable(found);
        });
  }

  @Override
  public Mono<Void> delete(ObjectKey key) {
    return Mono.fromRunnable(
        () -> {
          synchronized (objects) {
            objects.remove(key);
          }
        });
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
