package io.ballast.storage.s3;

import io.ballast.storage.ETag;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PartedUpload;
import io.ballast.storage.PartedUpload.Part;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.StorageException;
import io.ballast.storage.WriteCondition;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.async.ResponsePublisher;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * One S3 bucket. An {@link ObjectKey} is the object's name as it is: prefixes are already part of
 * the keys core builds.
 *
 * <p>Every body goes up through {@link PartedUpload}: one PutObject when it fits in a part,
 * otherwise a multipart upload whose parts each carry their SHA-256 as the {@code
 * x-amz-checksum-sha256} header, so the server verifies every byte it receives. The write condition
 * goes on the PutObject or on CompleteMultipartUpload, which is the moment the object appears.
 *
 * <p>Listing reads no user metadata (S3 lists none; a HEAD per object would be one request each),
 * so the {@link ObjectMeta}s of {@link #list} have empty metadata.
 */
final class S3ObjectStorage implements ObjectStorage {

  private final Supplier<S3AsyncClient> client;
  private final String bucket;

  S3ObjectStorage(Supplier<S3AsyncClient> client, String bucket) {
    this.client = client;
    this.bucket = bucket;
  }

  @Override
  public String describe() {
    return S3StorageProvider.NAME + " bucket '" + bucket + "'";
  }

  /** HeadBucket: 200 when it exists, 404 when not; needs s3:ListBucket, as pruning does. */
  @Override
  public Mono<Void> checkExists() {
    return call(() -> client.get().headBucket(b -> b.bucket(bucket)))
        .then()
        .onErrorMap(
            S3Errors::isMissingBucket,
            e -> S3Errors.missingBucket(bucket, describe(), "HTTP 404 to HeadBucket", e))
        .onErrorMap(e -> S3Errors.translate(e, bucket, describe()));
  }

  @Override
  public Mono<ObjectMeta> put(ObjectKey key, Flux<ByteBuffer> body, PutOptions options) {
    return PartedUpload.upload(
        object(key), body, options, PartedUpload.DEFAULT_PART_SIZE, new Upload(key, options));
  }

  @Override
  public Mono<ReadResult> get(ObjectKey key, ReadCondition condition) {
    GetObjectRequest.Builder request = GetObjectRequest.builder().bucket(bucket).key(key.value());
    if (condition instanceof ReadCondition.IfNoneMatch ifNoneMatch) {
      request.ifNoneMatch(ifNoneMatch.etag().value());
    }
    Mono<ReadResult> found =
        call(() -> client.get().getObject(request.build(), AsyncResponseTransformer.toPublisher()))
            .map(response -> found(key, response));
    return found
        .onErrorResume(
            S3Errors::isNotModified,
            e ->
                Mono.just(
                    new ReadResult.NotModified(
                        key, ((ReadCondition.IfNoneMatch) condition).etag())))
        .onErrorResume(S3Errors::isMissingObject, e -> Mono.just(new ReadResult.NotFound(key)))
        .onErrorMap(e -> translate(e, key));
  }

  @Override
  public Mono<ObjectMeta> head(ObjectKey key) {
    return call(() -> client.get().headObject(b -> b.bucket(bucket).key(key.value())))
        .map(response -> meta(key, response))
        .onErrorResume(S3Errors::isMissingObject, e -> Mono.empty())
        .onErrorMap(e -> translate(e, key));
  }

  @Override
  public Flux<ObjectMeta> list(ObjectKey prefix) {
    String below = prefix.value() + "/";
    return Flux.defer(
            () ->
                Flux.from(
                    client
                        .get()
                        .listObjectsV2Paginator(b -> b.bucket(bucket).prefix(below))
                        .contents()))
        .map(this::meta)
        .onErrorMap(e -> S3Errors.translate(e, bucket, describe() + " prefix '" + below + "'"));
  }

  @Override
  public Mono<Void> delete(ObjectKey key) {
    // S3 answers 204 for a missing key too.
    return call(() -> client.get().deleteObject(b -> b.bucket(bucket).key(key.value())))
        .onErrorResume(S3Errors::isMissingObject, e -> Mono.empty())
        .onErrorMap(e -> translate(e, key))
        .then();
  }

  @Override
  public String toString() {
    return describe();
  }

  /** The requests of {@link PartedUpload} for one object. */
  private final class Upload implements PartedUpload.Steps<String, CompletedPart> {

    private final ObjectKey key;
    private final PutOptions options;

    Upload(ObjectKey key, PutOptions options) {
      this.key = key;
      this.options = options;
    }

    @Override
    public Mono<ObjectMeta> putWhole(Part whole) {
      PutObjectRequest.Builder request =
          PutObjectRequest.builder()
              .bucket(bucket)
              .key(key.value())
              .contentLength((long) whole.size())
              .checksumSHA256(whole.sha256Base64())
              .metadata(options.metadata());
      request.ifNoneMatch(ifNoneMatch(options.condition())).ifMatch(ifMatch(options.condition()));
      return write(
              () ->
                  client
                      .get()
                      .putObject(request.build(), AsyncRequestBody.fromBytes(whole.bytes())))
          .map(response -> written(response.eTag(), whole.size()));
    }

    @Override
    public Mono<String> begin() {
      return write(
              () ->
                  client
                      .get()
                      .createMultipartUpload(
                          b ->
                              b.bucket(bucket)
                                  .key(key.value())
                                  .metadata(options.metadata())
                                  .checksumAlgorithm(ChecksumAlgorithm.SHA256)))
          .map(response -> response.uploadId());
    }

    @Override
    public Mono<CompletedPart> putPart(String upload, Part part) {
      String sha256 = part.sha256Base64();
      return write(
              () ->
                  client
                      .get()
                      .uploadPart(
                          b ->
                              b.bucket(bucket)
                                  .key(key.value())
                                  .uploadId(upload)
                                  .partNumber(part.number())
                                  .contentLength((long) part.size())
                                  .checksumSHA256(sha256),
                          AsyncRequestBody.fromBytes(part.bytes())))
          .map(
              response ->
                  CompletedPart.builder()
                      .partNumber(part.number())
                      .eTag(response.eTag())
                      .checksumSHA256(sha256)
                      .build());
    }

    @Override
    public Mono<ObjectMeta> commit(String upload, List<CompletedPart> parts, long size) {
      CompleteMultipartUploadRequest.Builder request =
          CompleteMultipartUploadRequest.builder()
              .bucket(bucket)
              .key(key.value())
              .uploadId(upload)
              .multipartUpload(m -> m.parts(parts));
      request.ifNoneMatch(ifNoneMatch(options.condition())).ifMatch(ifMatch(options.condition()));
      return write(() -> client.get().completeMultipartUpload(request.build()))
          .map(response -> written(response.eTag(), size));
    }

    @Override
    public Mono<Void> abort(String upload) {
      return write(
              () ->
                  client
                      .get()
                      .abortMultipartUpload(
                          b -> b.bucket(bucket).key(key.value()).uploadId(upload)))
          .then();
    }

    private ObjectMeta written(String etag, long size) {
      // The server returns no modification time on a write; ours is close enough for a listing.
      return new ObjectMeta(key, new ETag(etag), size, Instant.now(), options.metadata());
    }

    /** A request of this upload, its failures translated for a write under the condition. */
    private <T> Mono<T> write(Supplier<CompletableFuture<T>> request) {
      return call(request)
          .onErrorMap(e -> S3Errors.translateWrite(e, bucket, object(key), options.condition()));
    }
  }

  /** If-None-Match for a write: {@code *} to create only, else none (null leaves it unset). */
  private static String ifNoneMatch(WriteCondition condition) {
    return condition instanceof WriteCondition.IfAbsent ? "*" : null;
  }

  /** If-Match for a write: the ETag exactly as the server gave it, quotes included. */
  private static String ifMatch(WriteCondition condition) {
    return condition instanceof WriteCondition.IfMatch ifMatch ? ifMatch.etag().value() : null;
  }

  private ReadResult found(ObjectKey key, ResponsePublisher<GetObjectResponse> response) {
    GetObjectResponse r = response.response();
    ObjectMeta meta =
        new ObjectMeta(
            key,
            new ETag(r.eTag()),
            r.contentLength() == null ? -1 : r.contentLength(),
            r.lastModified() == null ? Instant.EPOCH : r.lastModified(),
            userMetadata(r.metadata()));
    Flux<ByteBuffer> body = Flux.from(response).onErrorMap(e -> translate(e, key));
    return new ReadResult.Found(meta, body);
  }

  private ObjectMeta meta(ObjectKey key, HeadObjectResponse r) {
    return new ObjectMeta(
        key,
        new ETag(r.eTag()),
        r.contentLength() == null ? -1 : r.contentLength(),
        r.lastModified() == null ? Instant.EPOCH : r.lastModified(),
        userMetadata(r.metadata()));
  }

  private ObjectMeta meta(S3Object o) {
    return new ObjectMeta(
        ObjectKey.of(o.key()),
        new ETag(o.eTag()),
        o.size() == null ? -1 : o.size(),
        o.lastModified() == null ? Instant.EPOCH : o.lastModified(),
        Map.of());
  }

  /** S3 lower-cases metadata keys; S3Mock keeps their case. Ours are lower-case either way. */
  private static Map<String, String> userMetadata(Map<String, String> metadata) {
    return metadata == null ? Map.of() : metadata;
  }

  /** Sends lazily: the request starts on subscription, and cancelling cancels it. */
  private static <T> Mono<T> call(Supplier<CompletableFuture<T>> request) {
    return Mono.fromFuture(request);
  }

  private StorageException translate(Throwable e, ObjectKey key) {
    return S3Errors.translate(e, bucket, object(key));
  }

  private String object(ObjectKey key) {
    return describe() + " key '" + key.value() + "'";
  }
}
