package io.ballast.controlplane.store;

/**
 * A write the store refuses because of another resource: a reference to a resource that does not
 * exist, or the deletion of a resource that is still referenced. The message names both.
 */
public class StoreConflictException extends IllegalArgumentException {

  public StoreConflictException(String message) {
    super(message);
  }
}
