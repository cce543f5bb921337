package io.ballast.storage.minio;

import com.google.common.collect.HashMultimap;
import com.google.common.collect.Multimap;
import io.ballast.storage.ETag;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PartedUpload;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.StorageUnavailableException;
import io.ballast.storage.WriteCondition;
import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.GetObjectResponse;
import io.minio.ListObjectsV2Response;
import io.minio.ObjectWriteResponse;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.messages.Item;
import io.minio.messages.Part;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import okhttp3.Headers;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * One bucket on a MinIO server through minio-java's async client.
 *
 * <p>ETags: minio-java strips the quotes from the ETag of a write or a stat but keeps them in a
 * listing; every ETag handed out here is the server's quoted form, and conditions send it quoted.
 *
 * <p>Writes go through core's {@link PartedUpload}: a body of one part is a single PutObject, a
 * longer one a multipart upload of 8 MiB parts. Over http minio-java signs each request's payload
 * SHA-256 (over https it sends Content-MD5), so the server verifies every part it receives. The
 * write condition (If-None-Match: * or If-Match) travels on the PutObject or on the
 * CompleteMultipartUpload, the request that makes the object visible.
 */
final class MinioObjectStorage implements ObjectStorage {

  private static final int READ_CHUNK = 64 * 1024;
  private static final String CONTENT_TYPE = "application/octet-stream";
  private static final String USER_METADATA_PREFIX = "x-amz-meta-";

  private final MinioClient client;
  private final String endpoint;
  private final String region;
  private final String bucket;

  MinioObjectStorage(MinioClient client, String endpoint, String region, String bucket) {
    this.client = client;
    this.endpoint = endpoint;
    this.region = region;
    this.bucket = bucket;
  }

  @Override
  public String describe() {
    return "minio:" + endpoint + "/" + bucket;
  }

  @Override
  public String toString() {
    return describe();
  }

  @Override
  public Mono<Void> checkExists() {
    return request(
            () ->
                client.bucketExists(
                    BucketExistsArgs.builder().bucket(bucket).region(region).build()))
        .onErrorMap(e -> MinioErrors.map(e, bucket, describe()))
        .flatMap(
            exists ->
                exists
                    ? Mono.<Void>empty()
                    : Mono.error(MinioErrors.noSuchBucket(bucket, describe(), "", null)));
  }

  // -----------------------------------------------------------------------------------------------
  // put

  @Override
  public Mono<ObjectMeta> put(ObjectKey key, Flux<ByteBuffer> body, PutOptions options) {
    return PartedUpload.upload(
        object(key), body, options, PartedUpload.DEFAULT_PART_SIZE, new Upload(key, options));
  }

  /** The requests of one put; the upload handle is minio's upload id. */
  private final class Upload implements PartedUpload.Steps<String, Part> {

    private final ObjectKey key;
    private final PutOptions options;

    Upload(ObjectKey key, PutOptions options) {
      this.key = key;
      this.options = options;
    }

    @Override
    public Mono<ObjectMeta> putWhole(PartedUpload.Part whole) {
      return write(
              () ->
                  client.putObject(
                      PutObjectArgs.builder()
                          .bucket(bucket)
                          .region(region)
                          .object(key.value())
                          // One part as big as the body: no multipart, so the condition holds
                          // for the one request that stores it.
                          .stream(
                              new ByteArrayInputStream(whole.bytes()),
                              whole.size(),
                              Math.max(whole.size(), PartedUpload.MIN_PART_SIZE))
                          .contentType(CONTENT_TYPE)
                          .userMetadata(options.metadata())
                          .headers(conditionHeaders(options.condition()))
                          .build()))
          .map(response -> written(response, whole.size()));
    }

    @Override
    public Mono<String> begin() {
      Multimap<String, String> headers = HashMultimap.create();
      headers.put("Content-Type", CONTENT_TYPE);
      options.metadata().forEach((name, value) -> headers.put(USER_METADATA_PREFIX + name, value));
      return write(
              () ->
                  client.createMultipartUploadAsync(
                      bucket, region, key.value(), headers, HashMultimap.create()))
          .map(response -> response.result().uploadId());
    }

    @Override
    public Mono<Part> putPart(String uploadId, PartedUpload.Part part) {
      return write(
              () ->
                  client.uploadPartAsync(
                      bucket,
                      region,
                      key.value(),
                      part.bytes(),
                      part.size(),
                      uploadId,
                      part.number(),
                      HashMultimap.create(),
                      HashMultimap.create()))
          .map(response -> new Part(part.number(), response.etag()));
    }

    @Override
    public Mono<ObjectMeta> commit(String uploadId, List<Part> parts, long size) {
      Multimap<String, String> headers = HashMultimap.create();
      conditionHeaders(options.condition()).forEach(headers::put);
      return write(
              () ->
                  client.completeMultipartUploadAsync(
                      bucket,
                      region,
                      key.value(),
                      uploadId,
                      parts.toArray(Part[]::new),
                      headers,
                      HashMultimap.create()))
          .map(response -> written(response, size));
    }

    @Override
    public Mono<Void> abort(String uploadId) {
      return write(
              () ->
                  client.abortMultipartUploadAsync(
                      bucket,
                      region,
                      key.value(),
                      uploadId,
                      HashMultimap.create(),
                      HashMultimap.create()))
          .then();
    }

    private <T> Mono<T> write(SdkCall<T> call) {
      return request(call)
          .onErrorMap(e -> MinioErrors.mapWrite(e, bucket, object(key), options.condition()));
    }

    private ObjectMeta written(ObjectWriteResponse response, long size) {
      Date date = response.headers().getDate("Date");
      return new ObjectMeta(
          key,
          quoted(response.etag()),
          size,
          date == null ? Instant.now() : date.toInstant(),
          options.metadata());
    }
  }

  private static Map<String, String> conditionHeaders(WriteCondition condition) {
    if (condition instanceof WriteCondition.IfMatch ifMatch) {
      return Map.of("If-Match", quoted(ifMatch.etag().value()).value());
    }
    if (condition instanceof WriteCondition.IfAbsent) {
      return Map.of("If-None-Match", "*");
    }
    return Map.of();
  }

  // -----------------------------------------------------------------------------------------------
  // get, head

  @Override
  public Mono<ReadResult> get(ObjectKey key, ReadCondition condition) {
    GetObjectArgs.Builder args =
        GetObjectArgs.builder().bucket(bucket).region(region).object(key.value());
    if (condition instanceof ReadCondition.IfNoneMatch ifNoneMatch) {
      args.notMatchETag(quoted(ifNoneMatch.etag().value()).value());
    }
    return request(() -> client.getObject(args.build()))
        .<ReadResult>map(response -> found(key, response))
        .onErrorResume(
            e -> {
              if (MinioErrors.isNotModified(e)
                  && condition instanceof ReadCondition.IfNoneMatch ifNoneMatch) {
                return Mono.just(new ReadResult.NotModified(key, ifNoneMatch.etag()));
              }
              if (MinioErrors.isNoSuchKey(e)) {
                return Mono.just(new ReadResult.NotFound(key));
              }
              return Mono.error(MinioErrors.map(e, bucket, object(key)));
            });
  }

  private ReadResult found(ObjectKey key, GetObjectResponse response) {
    try {
      return new ReadResult.Found(meta(key, response.headers()), body(key, response));
    } catch (RuntimeException e) {
      // Headers we cannot read (no ETag, say): the body will never be read, so free the connection.
      closeQuietly(response);
      throw new StorageUnavailableException(
          object(key) + ": the server's answer lacks what S3 sends: " + e.getMessage(), e);
    }
  }

  /** Streams the response in chunks as they are requested; closing it releases the connection. */
  private Flux<ByteBuffer> body(ObjectKey key, GetObjectResponse response) {
    return Flux.using(
            () -> response,
            (InputStream in) ->
                Flux.<ByteBuffer>generate(
                    sink -> {
                      byte[] chunk = new byte[READ_CHUNK];
                      try {
                        int n = in.read(chunk);
                        if (n < 0) {
                          sink.complete();
                        } else {
                          sink.next(ByteBuffer.wrap(chunk, 0, n));
                        }
                      } catch (IOException e) {
                        sink.error(MinioErrors.map(e, bucket, object(key)));
                      }
                    }),
            MinioObjectStorage::closeQuietly)
        // Reading the stream blocks.
        .subscribeOn(Schedulers.boundedElastic());
  }

  @Override
  public Mono<ObjectMeta> head(ObjectKey key) {
    return request(
            () ->
                client.statObject(
                    StatObjectArgs.builder()
                        .bucket(bucket)
                        .region(region)
                        .object(key.value())
                        .build()))
        .map(response -> meta(key, response.headers()))
        .onErrorResume(
            e ->
                MinioErrors.isNoSuchKey(e)
                    ? missingUnlessBucketIsMissing(key)
                    : Mono.error(MinioErrors.map(e, bucket, object(key))));
  }

  /**
   * A HEAD answer has no body, so a missing bucket looks like a missing object (minio-java calls
   * both NoSuchKey); asking for the bucket tells them apart.
   */
  private Mono<ObjectMeta> missingUnlessBucketIsMissing(ObjectKey key) {
    return request(
            () ->
                client.bucketExists(
                    BucketExistsArgs.builder().bucket(bucket).region(region).build()))
        .onErrorMap(e -> MinioErrors.map(e, bucket, object(key)))
        .flatMap(
            exists ->
                exists
                    ? Mono.empty()
                    : Mono.error(MinioErrors.noSuchBucket(bucket, object(key), "", null)));
  }

  private ObjectMeta meta(ObjectKey key, Headers headers) {
    StatObjectResponse stat = new StatObjectResponse(headers, bucket, region, key.value());
    Map<String, String> metadata = new HashMap<>();
    // S3 lower-cases metadata names on HEAD; some servers keep the case on GET.
    stat.userMetadata()
        .forEach((name, value) -> metadata.put(name.toLowerCase(Locale.ROOT), value));
    return new ObjectMeta(
        key, quoted(headers.get("ETag")), stat.size(), stat.lastModified().toInstant(), metadata);
  }

  // -----------------------------------------------------------------------------------------------
  // list, delete

  @Override
  public Flux<ObjectMeta> list(ObjectKey prefix) {
    String below = prefix.value() + "/";
    String described = "minio bucket '" + bucket + "' prefix '" + below + "'";
    return page(below, null)
        .expand(
            response ->
                response.result().isTruncated()
                    ? page(below, response.result().nextContinuationToken())
                    : Mono.empty())
        .concatMapIterable(response -> response.result().contents())
        .filter(item -> isObjectKey(item.objectName()))
        .map(this::listed)
        .onErrorMap(e -> MinioErrors.map(e, bucket, described));
  }

  private Mono<ListObjectsV2Response> page(String prefix, String token) {
    return request(() -> client.listPage(bucket, region, prefix, token));
  }

  /** Skips names no {@link ObjectKey} can hold, such as the folder markers of S3 consoles. */
  private static boolean isObjectKey(String name) {
    try {
      ObjectKey.of(name);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private ObjectMeta listed(Item item) {
    return new ObjectMeta(
        ObjectKey.of(item.objectName()),
        quoted(item.etag()),
        item.size(),
        item.lastModified().toInstant(),
        Map.of());
  }

  @Override
  public Mono<Void> delete(ObjectKey key) {
    return request(
            () ->
                client.removeObject(
                    RemoveObjectArgs.builder()
                        .bucket(bucket)
                        .region(region)
                        .object(key.value())
                        .build()))
        .onErrorResume(
            e ->
                MinioErrors.isNoSuchKey(e)
                    ? Mono.empty()
                    : Mono.error(MinioErrors.map(e, bucket, object(key))))
        .then();
  }

  // -----------------------------------------------------------------------------------------------
  // helpers

  /** A minio-java call: it may throw before it returns its future. */
  @FunctionalInterface
  private interface SdkCall<T> {
    CompletableFuture<T> call() throws Exception;
  }

  /** Starts {@code call} on subscription; errors arrive unmapped. */
  private static <T> Mono<T> request(SdkCall<T> call) {
    return Mono.fromFuture(
        () -> {
          try {
            return call.call();
          } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
          }
        });
  }

  private String object(ObjectKey key) {
    return "minio bucket '" + bucket + "' key '" + key.value() + "'";
  }

  /** The ETag in the quoted form S3 servers send and expect back. */
  static ETag quoted(String etag) {
    if (etag == null || etag.isBlank()) {
      throw new IllegalStateException("the server sent no ETag");
    }
    String bare =
        etag.startsWith("\"") && etag.endsWith("\"") && etag.length() >= 2
            ? etag.substring(1, etag.length() - 1)
            : etag;
    return ETag.of("\"" + bare + "\"");
  }

  private static void closeQuietly(InputStream in) {
    try {
      in.close();
    } catch (IOException e) {
      // The body was read or abandoned; nothing is left to report.
    }
  }
}
