package io.ballast.storage;

/** The stored or received bytes do not match the checksum given with them; retryable. */
public final class ChecksumMismatchException extends StorageException {

  public ChecksumMismatchException(String message) {
    super(message, null);
  }

  public ChecksumMismatchException(String message, Throwable cause) {
    super(message, cause);
  }
}
