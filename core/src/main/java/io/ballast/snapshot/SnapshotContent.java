package io.ballast.snapshot;

import io.ballast.fs.PrivateFiles;
import io.ballast.resource.InvalidResourceException;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resource sets to and from snapshot bodies on disk. */
public final class SnapshotContent {

  private SnapshotContent() {}

  /**
   * Reads and validates a {@code resources} body.
   *
   * @throws SnapshotFormatException naming the line of an unknown type, an invalid resource (its
   *     {@link InvalidResourceException} as the cause) or a malformed line
   * @throws InvalidResourceException when a resource refers to one the body does not hold
   */
  public static ResourceSet readResources(Path bodyFile) {
    ResourceSet.Builder builder = ResourceSet.builder();
    try (InputStream in = Files.newInputStream(bodyFile);
        SnapshotBodyReader reader = new SnapshotBodyReader(in)) {
      for (SnapshotEntry entry = reader.next(); entry != null; entry = reader.next()) {
        String where = "snapshot body " + bodyFile + " line " + reader.lineNumber() + ": ";
        ResourceType type = ResourceType.fromPlural(entry.type()).orElse(null);
        if (type == null) {
          throw new SnapshotFormatException(where + "unknown resource type '" + entry.type() + "'");
        }
        Resource resource;
        try {
          resource = Resource.parse(type, entry.id(), entry.value());
        } catch (InvalidResourceException e) {
          throw new SnapshotFormatException(where + e.getMessage(), e);
        }
        builder.add(resource);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read snapshot body " + bodyFile, e);
    }
    return builder.build();
  }

  /** Writes {@code set} as a body in canonical order to {@code target}, replacing it. */
  public static BodyStats writeResources(ResourceSet set, Path target) {
    try (OutputStream out = PrivateFiles.newOutputStream(target);
        SnapshotBodyWriter writer = new SnapshotBodyWriter(out)) {
      set.inCanonicalOrder()
          .forEach(r -> writer.write(new SnapshotEntry(r.type().plural(), r.id(), r.value())));
      return writer.finish();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write snapshot body " + target, e);
    }
  }
}
