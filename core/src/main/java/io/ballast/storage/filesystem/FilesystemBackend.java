package io.ballast.storage.filesystem;

import io.ballast.storage.InvalidStorageConfigException;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.StorageBackend;
import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Object storage in a local folder: each bucket is a sub-folder of {@code root}, each object one
 * file in it (format in {@link FilesystemObjectStorage}). The embedded default backend, and the one
 * to use on a shared volume (NFS, EFS) when no blob store is at hand. Like an S3 bucket, each
 * bucket folder must exist: nothing here creates one (an unmounted volume or a typo must not be
 * filled silently).
 */
public final class FilesystemBackend implements StorageBackend {

  /** One plain folder name: no separators, no {@code .} or {@code ..}, nothing hidden. */
  private static final Pattern BUCKET_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,254}");

  private final Path root;

  public FilesystemBackend(Path root) {
    this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
  }

  @Override
  public String name() {
    return FilesystemStorageProvider.NAME;
  }

  /** The folder all buckets live in. */
  public Path root() {
    return root;
  }

  @Override
  public ObjectStorage bucket(String bucket) {
    Objects.requireNonNull(bucket, "bucket");
    if (!BUCKET_NAME.matcher(bucket).matches()) {
      throw new InvalidStorageConfigException(
          "filesystem bucket '"
              + bucket
              + "' is not a single folder name (letters, digits, '.', '_', '-'; starting with a"
              + " letter or digit)");
    }
    return new FilesystemObjectStorage(root.resolve(bucket));
  }

  @Override
  public void close() {
    // Holds no open resources: every operation opens and closes its own files.
  }

  @Override
  public String toString() {
    return "filesystem:" + root;
  }
}
