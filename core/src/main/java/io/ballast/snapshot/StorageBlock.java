package io.ballast.snapshot;

import io.ballast.config.ConfigNode;
import java.util.Objects;

/**
 * One storage block of {@code fallback_cp}: the backend it names ({@code aws_s3}, {@code
 * azure_blob}, {@code minio}, {@code filesystem}, …) and the two buckets every backend has. The
 * rest of the block (credentials, region, endpoint, path) is the provider's to read from {@link
 * #block()}.
 *
 * @param backend the block's name, which selects the storage provider
 * @param block the block itself, secrets included; its path names it in errors ({@code
 *     fallback_cp.aws_s3}, {@code fallback_cp.backends[1].azure_blob})
 * @param configBucket where {@code instance} snapshots go
 * @param resourceBucket where {@code resources} snapshots and the export pointer go
 */
public record StorageBlock(
    String backend, ConfigNode block, String configBucket, String resourceBucket) {

  public StorageBlock {
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(block, "block");
    Objects.requireNonNull(configBucket, "configBucket");
    Objects.requireNonNull(resourceBucket, "resourceBucket");
  }

  /** The bucket that holds snapshots of {@code kind}. */
  public String bucket(SnapshotKind kind) {
    return kind == SnapshotKind.RESOURCES ? resourceBucket : configBucket;
  }

  /** The block's key path, e.g. {@code fallback_cp.backends[1].azure_blob}: its name in status. */
  public String path() {
    return block.path();
  }

  /** Names the backend and buckets only: the block carries credentials. */
  @Override
  public String toString() {
    return backend + "[configBucket=" + configBucket + ", resourceBucket=" + resourceBucket + "]";
  }
}
