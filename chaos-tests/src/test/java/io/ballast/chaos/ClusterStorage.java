package io.ballast.chaos;

import java.nio.file.Path;
import java.util.List;

/**
 * The storage a test cluster shares: the {@code fallback_cp} block that points nodes at it, and a
 * reader of its objects that uses the storage's own tools rather than Ballast's backend, to show
 * that what a control plane writes is plain.
 */
interface ClusterStorage extends AutoCloseable {

  /** The storage kinds the scenarios run on. */
  enum Kind {
    FILESYSTEM,
    AWS_S3,
    AZURE_BLOB;

    ClusterStorage start(Path dir) {
      return switch (this) {
        case FILESYSTEM -> FilesystemStorage.create(dir);
        case AWS_S3 -> S3ProxyStorage.start(dir);
        case AZURE_BLOB -> AzuriteStorage.start(dir);
      };
    }
  }

  /**
   * The storage block under {@code fallback_cp}, its name on the first line, with both bucket keys
   * ({@link Configs#CONFIG_BUCKET} and {@link Configs#RESOURCE_BUCKET}); not indented.
   */
  String block();

  /** The block for control planes: {@link #block()} unless the CP reaches storage another way. */
  default String controlPlaneBlock() {
    return block();
  }

  /** The credentials in {@link #block()}, which no node may log. */
  List<String> secrets();

  /** A stored object's bytes, or an AssertionError naming the object. */
  byte[] read(String bucket, String key);

  /** What is stored, for failure messages. */
  String describe();

  @Override
  void close();
}
