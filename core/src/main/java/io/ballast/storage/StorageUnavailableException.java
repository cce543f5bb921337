package io.ballast.storage;

/**
 * The server could not be reached, timed out or answered 5xx after the client's own retries;
 * retryable.
 */
public final class StorageUnavailableException extends StorageException {

  public StorageUnavailableException(String message) {
    super(message, null);
  }

  public StorageUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
