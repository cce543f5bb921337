package io.ballast.storage;

/** A write or read precondition did not hold (HTTP 412): another writer got there first. */
public final class ConditionFailedException extends StorageException {

  public ConditionFailedException(String message) {
    super(message, null);
  }

  public ConditionFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
