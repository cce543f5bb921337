package io.ballast.storage;

/** The credentials may not do this (HTTP 401/403). */
public final class AccessDeniedException extends StorageException {

  public AccessDeniedException(String message) {
    super(message, null);
  }

  public AccessDeniedException(String message, Throwable cause) {
    super(message, cause);
  }
}
