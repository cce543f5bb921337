package io.ballast.storage;

/** The configuration cannot work: a missing bucket, a bad endpoint, a malformed setting. */
public sealed class InvalidStorageConfigException extends StorageException
    permits MissingBucketException {

  public InvalidStorageConfigException(String message) {
    super(message, null);
  }

  public InvalidStorageConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
