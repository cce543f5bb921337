package io.ballast.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class SnapshotBodyTest {

  @TempDir Path dir;

  private static JsonNode json(String text) {
    return Json.mapper().readTree(text.replace('\'', '"'));
  }

  private static Resource resource(ResourceType type, String id, String body) {
    return Resource.parse(type, id, json(body));
  }

  private static List<Resource> sample() {
    return List.of(
        resource(
            ResourceType.ROUTES,
            "2",
            "{'uri':'/b','upstream_id':'u','labels':{'y':'1','b':'2'},'desc':'d'}"),
        resource(ResourceType.ROUTES, "10", "{'upstream_id':'u','uri':'/a'}"),
        resource(ResourceType.UPSTREAMS, "u", "{'type':'roundrobin','nodes':{'b:80':1,'a:80':1}}"),
        resource(ResourceType.CONSUMERS, "jack", "{'plugins':{'key-auth':{'key':'k'}}}"),
        resource(ResourceType.SERVICES, "s", "{'upstream_id':'u'}"));
  }

  @Test
  void sameSetInDifferentOrderGivesIdenticalBytes() throws IOException {
    ResourceSet.Builder forward = ResourceSet.builder();
    sample().forEach(forward::add);
    ResourceSet.Builder backward = ResourceSet.builder();
    List<Resource> reversed = new ArrayList<>(sample());
    Collections.reverse(reversed);
    reversed.forEach(backward::add);

    BodyStats first = SnapshotContent.writeResources(forward.build(), dir.resolve("a.ndjson.gz"));
    BodyStats second = SnapshotContent.writeResources(backward.build(), dir.resolve("b.ndjson.gz"));

    byte[] a = Files.readAllBytes(dir.resolve("a.ndjson.gz"));
    assertThat(a).isEqualTo(Files.readAllBytes(dir.resolve("b.ndjson.gz")));
    assertThat(first).isEqualTo(second);
    assertThat(first.size()).isEqualTo(a.length);
    assertThat(first.sha256Hex())
        .isEqualTo(HexFormat.of().formatHex(sha256(a)))
        .isEqualTo(SnapshotFiles.digest(dir.resolve("a.ndjson.gz")).sha256Hex());
    assertThat(first.counts())
        .isEqualTo(Map.of("upstreams", 1L, "services", 1L, "consumers", 1L, "routes", 2L));
  }

  @Test
  void bodyIsCanonicalNdjsonWithADeterministicGzipHeader() throws IOException {
    ResourceSet.Builder builder = ResourceSet.builder();
    sample().forEach(builder::add);
    Path body = dir.resolve("body.ndjson.gz");
    SnapshotContent.writeResources(builder.build(), body);

    byte[] bytes = Files.readAllBytes(body);
    // magic, deflate, no flags (no file name), mtime 0
    assertThat(bytes).startsWith(0x1f, 0x8b, 8, 0, 0, 0, 0, 0);
    String text =
        new String(
            new GZIPInputStream(Files.newInputStream(body)).readAllBytes(), StandardCharsets.UTF_8);
    assertThat(text)
        .isEqualTo(
            """
            {"type":"upstreams","id":"u","value":{"id":"u","nodes":{"a:80":1,"b:80":1},"type":"roundrobin"}}
            {"type":"services","id":"s","value":{"id":"s","upstream_id":"u"}}
            {"type":"consumers","id":"jack","value":{"plugins":{"key-auth":{"key":"k"}},"username":"jack"}}
            {"type":"routes","id":"10","value":{"id":"10","upstream_id":"u","uri":"/a"}}
            {"type":"routes","id":"2","value":{"desc":"d","id":"2","labels":{"b":"2","y":"1"},"upstream_id":"u","uri":"/b"}}
            """);
  }

  @Test
  void readResourcesRoundTrips() {
    ResourceSet.Builder builder = ResourceSet.builder();
    sample().forEach(builder::add);
    ResourceSet set = builder.build();
    Path body = dir.resolve("body.ndjson.gz");
    SnapshotContent.writeResources(set, body);

    ResourceSet read = SnapshotContent.readResources(body);

    assertThat(read.inCanonicalOrder().toList()).isEqualTo(set.inCanonicalOrder().toList());
  }

  @Test
  void writerRefusesEntriesOutOfOrderOrRepeated() {
    SnapshotBodyWriter writer = new SnapshotBodyWriter(new ByteArrayOutputStream());
    writer.write(new SnapshotEntry("services", "b", json("{}")));

    assertThatThrownBy(() -> writer.write(new SnapshotEntry("upstreams", "z", json("{}"))))
        .hasMessageContaining("upstreams/'z' is not after services/'b'");
    assertThatThrownBy(() -> writer.write(new SnapshotEntry("services", "a", json("{}"))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> writer.write(new SnapshotEntry("services", "b", json("{}"))))
        .isInstanceOf(IllegalArgumentException.class);
    writer.write(new SnapshotEntry("global_rules", "1", json("{}")));
    writer.write(new SnapshotEntry("routes", "a", json("{}")));
    // type names outside ResourceType come after the known ones, by name
    writer.write(new SnapshotEntry("keyring", "1", json("{}")));
    writer.write(new SnapshotEntry("stream_routes", "1", json("{}")));
    assertThatThrownBy(() -> writer.write(new SnapshotEntry("protos", "1", json("{}"))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(writer.finish().counts())
        .isEqualTo(
            Map.of(
                "services",
                1L,
                "global_rules",
                1L,
                "routes",
                1L,
                "keyring",
                1L,
                "stream_routes",
                1L));
  }

  @Test
  void readerNamesTheLineOfAMalformedEntry() throws IOException {
    byte[] body =
        gzip(
            "{\"type\":\"upstreams\",\"id\":\"u\",\"value\":{}}\n"
                + "{\"type\":\"routes\",\"id\":\"1\",\"value\":{}}\n"
                + "{\"type\":\"routes\",\"id\":\"2\",\"value\":{} oops\n");
    List<SnapshotEntry> seen = new ArrayList<>();

    assertThatThrownBy(() -> SnapshotBodyReader.read(new ByteArrayInputStream(body), seen::add))
        .isInstanceOf(SnapshotFormatException.class)
        .hasMessageStartingWith("snapshot body line 3: not JSON");
    assertThat(seen).hasSize(2);
  }

  @Test
  void readerRefusesMissingFieldsOrderAndNonGzip() throws IOException {
    assertThatThrownBy(() -> readAll(gzip("{\"id\":\"1\",\"value\":{}}\n")))
        .hasMessage("snapshot body line 1: 'type' is missing or not a non-empty string");
    assertThatThrownBy(() -> readAll(gzip("{\"type\":\"routes\",\"id\":\"1\"}\n")))
        .hasMessage("snapshot body line 1: 'value' is missing");
    assertThatThrownBy(() -> readAll(gzip("\n"))).hasMessageStartingWith("snapshot body line 1: ");
    assertThatThrownBy(
            () ->
                readAll(
                    gzip(
                        "{\"type\":\"routes\",\"id\":\"1\",\"value\":{}}\n"
                            + "{\"type\":\"upstreams\",\"id\":\"1\",\"value\":{}}\n")))
        .hasMessageContaining("line 2: entry upstreams/'1' is not after routes/'1'");
    assertThatThrownBy(() -> readAll("not gzip".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(SnapshotFormatException.class)
        .hasMessageContaining("not gzip");
  }

  @Test
  void readResourcesNamesTheLineOfAnUnknownTypeOrInvalidResource() throws IOException {
    Path unknown = dir.resolve("unknown.ndjson.gz");
    Files.write(
        unknown,
        gzip(
            "{\"type\":\"upstreams\",\"id\":\"u\",\"value\":{\"nodes\":{\"a:1\":1}}}\n"
                + "{\"type\":\"widgets\",\"id\":\"1\",\"value\":{}}\n"));
    assertThatThrownBy(() -> SnapshotContent.readResources(unknown))
        .isInstanceOf(SnapshotFormatException.class)
        .hasMessageContaining("line 2: unknown resource type 'widgets'");

    Path invalid = dir.resolve("invalid.ndjson.gz");
    Files.write(invalid, gzip("{\"type\":\"upstreams\",\"id\":\"u\",\"value\":{\"nodes\":{}}}\n"));
    assertThatThrownBy(() -> SnapshotContent.readResources(invalid))
        .isInstanceOf(SnapshotFormatException.class)
        .hasMessageContaining("line 1: upstream 'u': nodes: must not be empty");
  }

  @Test
  void readResourcesKeepsFieldsThisVersionDoesNotAcceptRatherThanRefuseTheBody()
      throws IOException {
    // A body from a CP of another version: refusing it would stop the DP from following its CP.
    Path body = dir.resolve("other-version.ndjson.gz");
    Files.write(
        body,
        gzip(
            "{\"type\":\"routes\",\"id\":\"1\",\"value\":{\"uri\":\"/a\",\"plugins\":{},"
                + "\"method\":[\"POST\"]}}\n"));

    ResourceSet read = SnapshotContent.readResources(body);

    Resource route = read.inCanonicalOrder().findFirst().orElseThrow();
    assertThat(route.ignoredFields()).containsExactly("method");
    assertThat(route.value().has("method")).isTrue();
  }

  private static void readAll(byte[] body) {
    SnapshotBodyReader.read(new ByteArrayInputStream(body), entry -> {});
  }

  private static byte[] gzip(String text) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
      gzip.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
