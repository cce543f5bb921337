package io.ballast.storage;

/**
 * An operation that needs an existing object found none (a get reports absence as a value instead).
 */
public final class ObjectNotFoundException extends StorageException {

  public ObjectNotFoundException(String message) {
    super(message, null);
  }

  public ObjectNotFoundException(String message, Throwable cause) {
    super(message, cause);
  }
}
