package io.ballast.storage.filesystem;

import io.ballast.config.ConfigNode;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.StorageProvider;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Set;

/**
 * The {@code fallback_cp.filesystem} block:
 *
 * <pre>
 * filesystem:
 *   path: /var/lib/ballast/storage   # relative paths resolve against the working directory
 *   config_bucket: config
 *   resource_bucket: resources
 * </pre>
 */
public final class FilesystemStorageProvider implements StorageProvider {

  public static final String NAME = "filesystem";

  /** {@code path} is ours; the bucket and prefix keys are read by the fallback_cp parser. */
  private static final Set<String> KEYS =
      Set.of("path", "config_bucket", "resource_bucket", "prefix");

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public StorageBackend create(ConfigNode block) {
    block.rejectUnknownKeys(KEYS);
    String path = block.requireString("path");
    try {
      return new FilesystemBackend(Path.of(path));
    } catch (InvalidPathException e) {
      throw block.error("path", "is not a valid path: " + e.getMessage());
    }
  }
}
