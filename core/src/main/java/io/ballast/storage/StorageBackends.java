package io.ballast.storage;

import io.ballast.config.ConfigNode;
import io.ballast.config.Suggestions;
import java.util.ServiceLoader;
import java.util.TreeSet;

/**
 * Finds the {@link StorageProvider} named by a {@code fallback_cp} block and builds its backend.
 */
public final class StorageBackends {

  private StorageBackends() {}

  /**
   * @param name the block name under {@code fallback_cp}, e.g. {@code aws_s3}
   * @param block that block
   * @throws io.ballast.config.ConfigException when no installed provider has that name
   */
  public static StorageBackend open(String name, ConfigNode block) {
    TreeSet<String> installed = new TreeSet<>();
    for (StorageProvider provider : ServiceLoader.load(StorageProvider.class)) {
      if (provider.name().equals(name)) {
        return provider.create(block);
      }
      installed.add(provider.name());
    }
    throw block.error(
        null,
        "no storage backend named '"
            + name
            + "' is installed (installed: "
            + String.join(", ", installed)
            + ")"
            + Suggestions.didYouMean(name, installed));
  }
}
