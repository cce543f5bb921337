package io.ballast.controlplane.store;

import io.ballast.fs.DurableFiles;
import io.ballast.resource.ParseMode;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code checkpoint.ndjson}: the full store at one revision. A header line {@code
 * {"format":1,"revision":N,"lineage":"<uuid>","count":K}} (and {@code "shrink_confirmed_revision"}
 * once a shrink was confirmed) then one line per resource {@code {"type","id","value",
 * "created_index","modified_index"}}. Replaced atomically, so it is always whole. The lineage lives
 * here, not in a file of its own, so that it changes together with the content an import brings; a
 * checkpoint written before lineages has none.
 */
final class Checkpoint {

  static final String FILE = "checkpoint.ndjson";
  private static final int FORMAT = 1;

  /** Header field, absent when no shrink was ever confirmed: see {@link StoreView}. */
  private static final String SHRINK_CONFIRMED_REVISION = "shrink_confirmed_revision";

  private Checkpoint() {}

  static void write(Path dir, StoreView view, JsonMapper mapper) throws IOException {
    DurableFiles.replace(
        dir.resolve(FILE),
        out -> {
          ObjectNode header = mapper.createObjectNode();
          header.put("format", FORMAT);
          header.put("revision", view.revision());
          header.put("lineage", view.lineage());
          header.put("count", view.size());
          if (view.shrinkConfirmedRevision() > 0) {
            header.put(SHRINK_CONFIRMED_REVISION, view.shrinkConfirmedRevision());
          }
          writeLine(out, mapper, header);
          for (ResourceType type : ResourceType.values()) {
            for (StoredResource stored : view.resources(type).values()) {
              ObjectNode line = mapper.createObjectNode();
              line.put("type", type.plural());
              line.put("id", stored.resource().id());
              line.set("value", stored.resource().value());
              line.put("created_index", stored.createdIndex());
              line.put("modified_index", stored.modifiedIndex());
              writeLine(out, mapper, line);
            }
          }
        });
  }

  /**
   * Reads the checkpoint in {@code dir}, or an empty view when there is none; the view's lineage is
   * {@code null} when there is none, or it was written before lineages.
   */
  static StoreView read(Path dir, JsonMapper mapper) throws IOException {
    Path file = dir.resolve(FILE);
    if (!Files.exists(file)) {
      return StoreView.empty(null);
    }
    Map<ResourceType, TreeMap<String, StoredResource>> maps = new EnumMap<>(ResourceType.class);
    long[] header = new long[3]; // revision, count, shrink confirmed revision
    String[] lineage = new String[1];
    JsonLines.Result result =
        JsonLines.read(
            file,
            mapper,
            (lineNumber, node) -> {
              if (lineNumber == 1) {
                long format = StoreFields.longValue(node, "format");
                if (format != FORMAT) {
                  throw new IllegalArgumentException(
                      "field 'format' is " + format + ", this version reads " + FORMAT);
                }
                header[0] = StoreFields.longValue(node, "revision");
                header[1] = StoreFields.longValue(node, "count");
                if (node.has(SHRINK_CONFIRMED_REVISION)) {
                  header[2] = StoreFields.longValue(node, SHRINK_CONFIRMED_REVISION);
                }
                if (node.has("lineage")) {
                  lineage[0] = StoreFields.string(node, "lineage");
                  if (lineage[0].isBlank()) {
                    throw new IllegalArgumentException("field 'lineage' must not be empty");
                  }
                }
                return;
              }
              ResourceType type = StoreFields.type(node);
              String id = StoreFields.string(node, "id");
              // Tolerant: see ConfigStore, which warns of the fields ignored.
              Resource resource =
                  Resource.parse(type, id, StoreFields.object(node, "value"), ParseMode.TOLERANT);
              StoredResource stored =
                  new StoredResource(
                      resource,
                      StoreFields.longValue(node, "created_index"),
                      StoreFields.longValue(node, "modified_index"));
              maps.computeIfAbsent(type, t -> new TreeMap<>()).put(id, stored);
            });
    long resources = result.lines() - 1;
    if (result.lines() == 0 || result.tornTail() || resources != header[1]) {
      throw new IllegalStateException(
          "corrupt store file "
              + file
              + ": incomplete, header says "
              + header[1]
              + " resources, found "
              + Math.max(resources, 0)
              + (result.tornTail() ? " and an unterminated last line" : ""));
    }
    return StoreView.of(header[0], lineage[0], maps, header[2]);
  }

  private static void writeLine(OutputStream out, JsonMapper mapper, JsonNode node)
      throws IOException {
    out.write(mapper.writeValueAsBytes(node));
    out.write('\n');
  }
}
