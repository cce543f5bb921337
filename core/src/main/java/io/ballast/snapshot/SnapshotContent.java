package io.ballast.snapshot;

import io.ballast.fs.PrivateFiles;
import io.ballast.resource.IgnoredFields;
import io.ballast.resource.InvalidResourceException;
import io.ballast.resource.ParseMode;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Resource sets to and from snapshot bodies on disk. */
public final class SnapshotContent {

  private static final Logger log = LoggerFactory.getLogger(SnapshotContent.class);

  private SnapshotContent() {}

  /**
   * Reads and validates a {@code resources} body. Resources are read {@link ParseMode#TOLERANT
   * tolerantly}: a body from a control plane of another version may hold fields this one does not
   * accept; they are ignored, with one WARN for the body, rather than stopping the data plane from
   * following its control plane.
   *
   * @throws SnapshotFormatException naming the line of an unknown type, an invalid resource (its
   *     {@link InvalidResourceException} as the cause) or a malformed line
   * @throws InvalidResourceException when a resource refers to one the body does not hold
   */
  public static ResourceSet readResources(Path bodyFile) {
    ResourceSet.Builder builder = ResourceSet.builder();
    List<Resource> read = new ArrayList<>();
    try (InputStream in = Files.newInputStream(bodyFile);
        SnapshotBodyReader reader = new SnapshotBodyReader(in)) {
      for (SnapshotEntry entry = reader.next(); entry != null; entry = reader.next()) {
        ResourceType type = ResourceType.fromPlural(entry.type()).orElse(null);
        if (type == null) {
          throw new SnapshotFormatException(
              where(bodyFile, reader) + "unknown resource type '" + entry.type() + "'");
        }
        Resource resource;
        try {
          resource = Resource.parse(type, entry.id(), entry.value(), ParseMode.TOLERANT);
        } catch (InvalidResourceException e) {
          throw new SnapshotFormatException(where(bodyFile, reader) + e.getMessage(), e);
        }
        builder.add(resource);
        read.add(resource);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read snapshot body " + bodyFile, e);
    }
    ResourceSet set = builder.build();
    IgnoredFields.describe(read)
        .ifPresent(
            ignored ->
                log.warn(
                    "snapshot body {} holds fields this version of Ballast does not accept; they"
                        + " are ignored: {}",
                    bodyFile,
                    ignored));
    return set;
  }

  /** Where an entry that fails was read; built only then, not for each of 10,000 routes. */
  private static String where(Path bodyFile, SnapshotBodyReader reader) {
    return "snapshot body " + bodyFile + " line " + reader.lineNumber() + ": ";
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
