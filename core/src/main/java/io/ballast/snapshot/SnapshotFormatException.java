package io.ballast.snapshot;

/** A snapshot body or manifest is not in the format this build reads. */
public class SnapshotFormatException extends RuntimeException {

  public SnapshotFormatException(String message) {
    super(message);
  }

  public SnapshotFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
