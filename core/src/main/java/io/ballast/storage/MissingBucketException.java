package io.ballast.storage;

/**
 * The bucket (S3), container (Azure) or folder (filesystem) itself does not exist. Never created on
 * the fly: a missing bucket is a typo, an unmounted volume or a deleted bucket, and writing into a
 * new one would hide that. A configuration error, so also an {@link InvalidStorageConfigException};
 * callers that report it by name (a CP refusing to start, a DP's {@code storage_missing_bucket})
 * test for this type.
 */
public final class MissingBucketException extends InvalidStorageConfigException {

  private final String bucket;

  public MissingBucketException(String bucket, String message) {
    this(bucket, message, null);
  }

  public MissingBucketException(String bucket, String message, Throwable cause) {
    super(message, cause);
    this.bucket = bucket;
  }

  /** The bucket's name as configured. */
  public String bucket() {
    return bucket;
  }
}
