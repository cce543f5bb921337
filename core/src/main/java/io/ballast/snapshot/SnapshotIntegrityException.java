package io.ballast.snapshot;

/** A downloaded snapshot body is not the one its manifest describes (size or SHA-256 differ). */
public class SnapshotIntegrityException extends RuntimeException {

  public SnapshotIntegrityException(String message) {
    super(message);
  }
}
