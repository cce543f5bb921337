package io.ballast.storage.azure;

import com.azure.core.util.BinaryData;
import com.azure.storage.blob.BlobAsyncClient;
import com.azure.storage.blob.BlobContainerAsyncClient;
import com.azure.storage.blob.models.BlobDownloadAsyncResponse;
import com.azure.storage.blob.models.BlobDownloadHeaders;
import com.azure.storage.blob.models.BlobErrorCode;
import com.azure.storage.blob.models.BlobItem;
import com.azure.storage.blob.models.BlobListDetails;
import com.azure.storage.blob.models.BlobProperties;
import com.azure.storage.blob.models.BlobRequestConditions;
import com.azure.storage.blob.models.BlockBlobItem;
import com.azure.storage.blob.models.ListBlobsOptions;
import com.azure.storage.blob.options.BlockBlobCommitBlockListOptions;
import com.azure.storage.blob.options.BlockBlobSimpleUploadOptions;
import com.azure.storage.blob.options.BlockBlobStageBlockOptions;
import com.azure.storage.blob.specialized.BlockBlobAsyncClient;
import io.ballast.storage.ConditionFailedException;
import io.ballast.storage.ETag;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PartedUpload;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.WriteCondition;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One container. Object keys map 1:1 to blob names; every object is a block blob. ETags are kept
 * exactly as the service sends them (Azure quotes them, Azurite does not) and sent back unchanged.
 */
final class AzureBlobObjectStorage implements ObjectStorage {

  private final BlobContainerAsyncClient container;
  private final Integer listPageSize;

  AzureBlobObjectStorage(BlobContainerAsyncClient container) {
    this(container, null);
  }

  /**
   * @param listPageSize names per listing page, or {@code null} for the service's default (5000);
   *     small only in tests, to exercise paging
   */
  AzureBlobObjectStorage(BlobContainerAsyncClient container, Integer listPageSize) {
    this.container = container;
    this.listPageSize = listPageSize;
  }

  @Override
  public String describe() {
    return "azure_blob:" + container.getBlobContainerUrl();
  }

  /** Get Container Properties: false when the container does not exist. */
  @Override
  public Mono<Void> checkExists() {
    return Mono.defer(container::exists)
        .onErrorMap(e -> AzureErrors.translate(e, name(), "itself"))
        .flatMap(
            exists ->
                exists
                    ? Mono.<Void>empty()
                    : Mono.error(
                        AzureErrors.missingContainer(
                            name(), "azure_blob container '" + name() + "': ", "", null)));
  }

  @Override
  public Mono<ObjectMeta> put(ObjectKey key, Flux<ByteBuffer> body, PutOptions options) {
    BlockBlobAsyncClient blob = blob(key).getBlockBlobAsyncClient();
    Steps steps = new Steps(key, blob, options);
    return PartedUpload.upload(describe(key), body, options, PartedUpload.DEFAULT_PART_SIZE, steps)
        .onErrorMap(e -> translatePut(e, key, options.condition()));
  }

  @Override
  public Mono<ReadResult> get(ObjectKey key, ReadCondition condition) {
    BlobRequestConditions conditions = new BlobRequestConditions();
    if (condition instanceof ReadCondition.IfNoneMatch ifNoneMatch) {
      conditions.setIfNoneMatch(ifNoneMatch.etag().value());
    }
    return Mono.defer(() -> blob(key).downloadStreamWithResponse(null, null, conditions, false))
        .<ReadResult>map(response -> found(key, response))
        .onErrorResume(
            e -> {
              int status = AzureErrors.status(e);
              if (status == 304 && condition instanceof ReadCondition.IfNoneMatch ifNoneMatch) {
                return Mono.just(new ReadResult.NotModified(key, ifNoneMatch.etag()));
              }
              if (AzureErrors.code(e) == BlobErrorCode.BLOB_NOT_FOUND) {
                return Mono.just(new ReadResult.NotFound(key));
              }
              return Mono.error(AzureErrors.translate(e, name(), "key '" + key + "'"));
            });
  }

  private ReadResult found(ObjectKey key, BlobDownloadAsyncResponse response) {
    BlobDownloadHeaders headers = response.getDeserializedHeaders();
    ObjectMeta meta =
        new ObjectMeta(
            key,
            ETag.of(headers.getETag()),
            headers.getContentLength() == null ? 0 : headers.getContentLength(),
            instant(headers.getLastModified()),
            metadata(headers.getMetadata()));
    Flux<ByteBuffer> body =
        response
            .getValue()
            .onErrorMap(e -> AzureErrors.translate(e, name(), "key '" + key + "' (body)"));
    return new ReadResult.Found(meta, body);
  }

  @Override
  public Mono<ObjectMeta> head(ObjectKey key) {
    return Mono.defer(() -> blob(key).getPropertiesWithResponse(null))
        .map(response -> meta(key, response.getValue()))
        .onErrorResume(
            e ->
                AzureErrors.code(e) == BlobErrorCode.BLOB_NOT_FOUND
                    ? Mono.empty()
                    : Mono.error(AzureErrors.translate(e, name(), "key '" + key + "'")));
  }

  @Override
  public Flux<ObjectMeta> list(ObjectKey prefix) {
    ListBlobsOptions options =
        new ListBlobsOptions()
            .setPrefix(prefix.value() + "/")
            .setMaxResultsPerPage(listPageSize)
            .setDetails(new BlobListDetails().setRetrieveMetadata(true));
    // The service lists blob names in ascending order, page after page.
    return Flux.defer(() -> container.listBlobs(options))
        .filter(item -> !Boolean.TRUE.equals(item.isPrefix()))
        .map(this::meta)
        .onErrorMap(e -> AzureErrors.translate(e, name(), "prefix '" + prefix + "'"));
  }

  @Override
  public Mono<Void> delete(ObjectKey key) {
    return Mono.defer(() -> blob(key).deleteWithResponse(null, null))
        .then()
        .onErrorResume(
            e ->
                AzureErrors.code(e) == BlobErrorCode.BLOB_NOT_FOUND
                    ? Mono.empty()
                    : Mono.error(AzureErrors.translate(e, name(), "key '" + key + "'")));
  }

  @Override
  public String toString() {
    return describe();
  }

  private String name() {
    return container.getBlobContainerName();
  }

  private String describe(ObjectKey key) {
    return "azure_blob container '" + name() + "' key '" + key + "'";
  }

  private BlobAsyncClient blob(ObjectKey key) {
    return container.getBlobAsyncClient(key.value());
  }

  private Throwable translatePut(Throwable error, ObjectKey key, WriteCondition condition) {
    // If-Match names a version; a blob that is gone no longer has it.
    if (condition instanceof WriteCondition.IfMatch
        && AzureErrors.code(error) == BlobErrorCode.BLOB_NOT_FOUND) {
      return new ConditionFailedException(
          describe(key) + ": the write condition does not hold (the blob does not exist)", error);
    }
    return AzureErrors.translate(error, name(), "key '" + key + "'");
  }

  /**
   * A put through Azure's staged blocks: Put Block for each part, then Put Block List under the
   * write condition, which makes the blocks the blob's content in one step.
   */
  private final class Steps implements PartedUpload.Steps<String, String> {

    private final ObjectKey key;
    private final BlockBlobAsyncClient blob;
    private final PutOptions options;

    Steps(ObjectKey key, BlockBlobAsyncClient blob, PutOptions options) {
      this.key = key;
      this.blob = blob;
      this.options = options;
    }

    @Override
    public Mono<ObjectMeta> putWhole(PartedUpload.Part whole) {
      BlockBlobSimpleUploadOptions upload =
          new BlockBlobSimpleUploadOptions(BinaryData.fromBytes(whole.bytes()))
              .setContentMd5(whole.md5())
              .setMetadata(options.metadata())
              .setRequestConditions(conditions());
      return Mono.defer(() -> blob.uploadWithResponse(upload))
          .map(response -> written(response.getValue(), whole.size()));
    }

    /**
     * The upload's block-id stem: random, so that concurrent writers of the same blob, whose
     * uncommitted blocks share one list on the server, never commit each other's blocks.
     */
    @Override
    public Mono<String> begin() {
      return Mono.fromSupplier(() -> UUID.randomUUID().toString());
    }

    @Override
    public Mono<String> putPart(String upload, PartedUpload.Part part) {
      String blockId = blockId(upload, part.number());
      BlockBlobStageBlockOptions stage =
          new BlockBlobStageBlockOptions(blockId, BinaryData.fromBytes(part.bytes()))
              .setContentMd5(part.md5());
      return Mono.defer(() -> blob.stageBlockWithResponse(stage)).thenReturn(blockId);
    }

    @Override
    public Mono<ObjectMeta> commit(String upload, List<String> parts, long size) {
      BlockBlobCommitBlockListOptions commit =
          new BlockBlobCommitBlockListOptions(parts)
              .setMetadata(options.metadata())
              .setRequestConditions(conditions());
      return Mono.defer(() -> blob.commitBlockListWithResponse(commit))
          .map(response -> written(response.getValue(), size));
    }

    /**
     * Nothing to send: Azure has no call that drops uncommitted blocks. They are invisible to
     * readers, the next commit of this blob discards them, and the service deletes them after a
     * week. Deleting the blob instead would destroy the committed version we did not replace.
     */
    @Override
    public Mono<Void> abort(String upload) {
      return Mono.empty();
    }

    private BlobRequestConditions conditions() {
      BlobRequestConditions conditions = new BlobRequestConditions();
      WriteCondition condition = options.condition();
      if (condition instanceof WriteCondition.IfAbsent) {
        conditions.setIfNoneMatch("*");
      } else if (condition instanceof WriteCondition.IfMatch ifMatch) {
        conditions.setIfMatch(ifMatch.etag().value());
      }
      return conditions;
    }

    private ObjectMeta written(BlockBlobItem item, long size) {
      return new ObjectMeta(
          key, ETag.of(item.getETag()), size, instant(item.getLastModified()), options.metadata());
    }
  }

  /**
   * Block ids must have the same length within a blob (before base64): the upload's UUID and a
   * six-digit part number, 43 characters.
   */
  static String blockId(String upload, int number) {
    String id = upload + "-" + String.format("%06d", number);
    return Base64.getEncoder().encodeToString(id.getBytes(StandardCharsets.US_ASCII));
  }

  private ObjectMeta meta(ObjectKey key, BlobProperties properties) {
    return new ObjectMeta(
        key,
        ETag.of(properties.getETag()),
        properties.getBlobSize(),
        instant(properties.getLastModified()),
        metadata(properties.getMetadata()));
  }

  private ObjectMeta meta(BlobItem item) {
    return new ObjectMeta(
        ObjectKey.of(item.getName()),
        ETag.of(item.getProperties().getETag()),
        item.getProperties().getContentLength() == null
            ? 0
            : item.getProperties().getContentLength(),
        instant(item.getProperties().getLastModified()),
        metadata(item.getMetadata()));
  }

  private static Map<String, String> metadata(Map<String, String> metadata) {
    return metadata == null ? Map.of() : metadata;
  }

  private static Instant instant(OffsetDateTime time) {
    return time == null ? Instant.EPOCH : time.toInstant();
  }
}
