package io.ballast.snapshot;

/**
 * A snapshot could not be published because storage holds something that conflicts with it: a body
 * of the same version with other content, or a pointer that other writers keep changing.
 */
public class SnapshotPublishException extends RuntimeException {

  public SnapshotPublishException(String message) {
    super(message);
  }

  public SnapshotPublishException(String message, Throwable cause) {
    super(message, cause);
  }
}
