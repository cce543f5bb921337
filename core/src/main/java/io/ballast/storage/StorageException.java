package io.ballast.storage;

/**
 * The closed set of storage failures callers branch on. Every message names the backend's view of
 * the object (bucket and key) and never a credential.
 */
public sealed class StorageException extends RuntimeException
    permits ConditionFailedException,
        AccessDeniedException,
        StorageUnavailableException,
        InvalidStorageConfigException,
        ChecksumMismatchException,
        ObjectNotFoundException {

  protected StorageException(String message, Throwable cause) {
    super(message, cause);
  }
}
