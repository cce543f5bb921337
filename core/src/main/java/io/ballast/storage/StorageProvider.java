package io.ballast.storage;

import io.ballast.config.ConfigNode;
import java.util.Set;

/**
 * Builds a {@link StorageBackend} from its {@code fallback_cp} block. Registered through {@link
 * java.util.ServiceLoader} in {@code META-INF/services/io.ballast.storage.StorageProvider}; a
 * backend module adds one, and nothing else changes.
 */
public interface StorageProvider {

  /**
   * The keys of every storage block that Ballast reads itself (see {@link
   * io.ballast.snapshot.FallbackCpConfig}); a provider reads the others and refuses unknown ones.
   */
  Set<String> COMMON_BLOCK_KEYS =
      Set.of(
          "config_bucket", "resource_bucket", "config_container", "resource_container", "prefix");

  /** The block name under {@code fallback_cp}: {@code filesystem}, {@code aws_s3}, … */
  String name();

  /**
   * Reads the provider's own keys from {@code block} (the bucket keys are already read by {@link
   * io.ballast.snapshot.FallbackCpConfig}) and builds the client. Performs no I/O.
   *
   * @throws io.ballast.config.ConfigException naming the key at fault
   */
  StorageBackend create(ConfigNode block);
}
