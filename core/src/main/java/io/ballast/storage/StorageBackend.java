package io.ballast.storage;

/**
 * A configured connection to one blob store (one SDK client), from which buckets are opened. Built
 * once per node by a {@link StorageProvider}; closed on shutdown.
 */
public interface StorageBackend extends AutoCloseable {

  /** The {@code fallback_cp} block name this backend was built from, e.g. {@code filesystem}. */
  String name();

  /** The bucket (S3), container (Azure) or folder (filesystem) with this name. */
  ObjectStorage bucket(String bucket);

  @Override
  void close();
}
