package io.ballast.service.config;

import io.ballast.config.ConfigNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A PEM file named by a key of the node's file: relative paths are taken from the folder of that
 * file, as APISIX takes them from its prefix, and a file that is not there is refused at once with
 * the key path.
 */
final class PemPaths {

  private PemPaths() {}

  static Optional<Path> optional(ConfigNode node, String key) {
    Optional<String> given = node.string(key);
    if (given.isEmpty()) {
      return Optional.empty();
    }
    if (given.get().isBlank()) {
      throw node.error(key, "must be the path of a PEM file, not empty");
    }
    Path folder = Path.of(node.file()).toAbsolutePath().normalize().getParent();
    Path path = folder.resolve(given.get().trim()).normalize();
    if (!Files.isReadable(path)) {
      throw node.error(key, "cannot read " + path);
    }
    return Optional.of(path);
  }
}
