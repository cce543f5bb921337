package io.ballast.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/**
 * 100,000 routes through the writer and reader under the tests' 256 MiB heap: entries are made one
 * at a time and dropped after use, so this only passes if neither side buffers the body.
 */
class SnapshotStreamingTest {

  private static final int ROUTES = 100_000;

  @TempDir Path dir;

  @Test
  void hundredThousandRoutesStreamThroughWriterAndReader() throws IOException {
    Path body = dir.resolve("big.ndjson.gz");
    BodyStats stats;
    try (OutputStream out = Files.newOutputStream(body);
        SnapshotBodyWriter writer = new SnapshotBodyWriter(out)) {
      writer.write(new SnapshotEntry("upstreams", "u", upstream()));
      // ids ordered by String.compareTo: zero-padded
      for (int i = 0; i < ROUTES; i++) {
        writer.write(new SnapshotEntry("routes", String.format("r%06d", i), route(i)));
      }
      stats = writer.finish();
    }
    assertThat(stats.counts()).containsEntry("routes", (long) ROUTES);
    assertThat(SnapshotFiles.digest(body).sha256Hex()).isEqualTo(stats.sha256Hex());

    AtomicLong routes = new AtomicLong();
    AtomicLong valid = new AtomicLong();
    try (InputStream in = Files.newInputStream(body)) {
      SnapshotBodyReader.read(
          in,
          entry -> {
            if (entry.type().equals("routes")) {
              routes.incrementAndGet();
              Resource.parse(ResourceType.ROUTES, entry.id(), entry.value());
              valid.incrementAndGet();
            }
          });
    }
    assertThat(routes).hasValue(ROUTES);
    assertThat(valid).hasValue(ROUTES);
  }

  private static ObjectNode upstream() {
    ObjectNode upstream = Json.mapper().createObjectNode();
    upstream.putObject("nodes").put("127.0.0.1:8080", 1);
    return upstream;
  }

  private static ObjectNode route(int i) {
    ObjectNode route = Json.mapper().createObjectNode();
    route.put("uri", "/api/v1/resource-" + i + "/*");
    route.putArray("methods").add("GET").add("POST");
    route.put("upstream_id", "u");
    route.put("name", "route number " + i);
    route.putObject("labels").put("team", "team-" + (i % 10)).put("rewrite", "^/api/(.*)");
    return route;
  }
}
