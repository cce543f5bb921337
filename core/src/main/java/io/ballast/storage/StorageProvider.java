package io.ballast.storage;

import io.ballast.config.ConfigNode;

/**
 * Builds a {@link StorageBackend} from its {@code fallback_cp} block. Registered through {@link
 * java.util.ServiceLoader} in {@code META-INF/services/io.ballast.storage.StorageProvider}; a
 * backend module adds one, and nothing else changes.
 */
public interface StorageProvider {

  /** The block name under {@code fallback_cp}: {@code filesystem}, {@code aws_s3}, … */
  String name();

  /**
   * Reads the provider's own keys from {@code block} (the bucket keys are already read by {@link
   * io.ballast.config.FallbackCpConfig}) and builds the client. Performs no I/O.
   *
   * @throws io.ballast.config.ConfigException naming the key at fault
   */
  StorageBackend create(ConfigNode block);
}
