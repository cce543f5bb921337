package io.ballast.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.chaos.GcLog.Collection;
import io.ballast.testkit.FreePorts;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import tools.jackson.databind.JsonNode;

/**
 * A data plane with a 256 MiB heap and 64 MiB of direct memory proxies 1 GiB bodies both ways,
 * framed by Content-Length and chunked, byte for byte, and its live heap stays where it was: the
 * proxy streams each body through and holds none of it. The direct-memory cap matters as much as
 * the heap: Netty's pooled buffers live there, so a body held in them would fail the transfer.
 */
class LargeBodyStreamingTest {

  private static final long GIB = 1024L * 1024 * 1024;
  private static final long MIB = 1024L * 1024;
  private static final long BODY = GIB;
  private static final long WARM_UP_BODY = 4 * MIB;

  /**
   * How far the heap after a collection may rise above the live heap measured before the transfers.
   * A young collection's figure also counts the survivor regions and old regions not yet collected
   * (G1 uses 1 MiB regions at this heap size), which moves by a few MiB with load; 32 MiB is far
   * above that noise and still 1/32 of one body, so a proxy keeping even a small part of a body, or
   * a little per chunk, goes over it.
   */
  private static final long HEAP_MARGIN_MIB = 32;

  /** Only against a stall (missing backpressure): a healthy transfer takes seconds. */
  private static final Duration STALL_LIMIT = Duration.ofMinutes(2);

  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  @TempDir Path tmp;

  private StreamingUpstream upstream;
  private BallastNode dp;
  private ConnectionProvider connections;
  private HttpClient client;
  private int proxyPort;

  @BeforeEach
  void startUpstream() {
    upstream = StreamingUpstream.start();
    connections = ConnectionProvider.create("large-body-client", 1);
    client = HttpClient.create(connections);
  }

  @AfterEach
  void stopAll() {
    if (dp != null) {
      dp.kill();
    }
    if (connections != null) {
      connections.disposeLater().block(Duration.ofSeconds(10));
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void oneGibBodiesStreamBothWaysWithAFlatHeap() {
    Path dir = tmp.resolve("dp");
    GcLog gc = new GcLog(dir.resolve("gc.log"));
    dp = standaloneDataPlane(dir).withJvmOptions("-XX:MaxDirectMemorySize=64m", gc.jvmOption());
    dp.start().awaitReady(START_TIMEOUT);

    // Class loading, JIT and Netty's buffer pools settle on the first exchanges, not on the body.
    long warmUpCrc = PseudoRandomBody.crc32(WARM_UP_BODY);
    checked(upload(WARM_UP_BODY, true), WARM_UP_BODY, warmUpCrc);
    checked(upload(WARM_UP_BODY, false), WARM_UP_BODY, warmUpCrc);
    checked(download(WARM_UP_BODY, true), WARM_UP_BODY, warmUpCrc);
    checked(download(WARM_UP_BODY, false), WARM_UP_BODY, warmUpCrc);
    Collection before = gc.collectFully(dp);

    long expectedCrc = PseudoRandomBody.crc32(BODY);
    List<Transfer> transfers = new ArrayList<>();
    transfers.add(checked(upload(BODY, true), BODY, expectedCrc));
    assertThat(upstream.lastUploadFraming())
        .as("framing of the upload with a length, as the upstream got it")
        .isEqualTo(StreamingUpstream.Framing.LENGTH);
    transfers.add(checked(upload(BODY, false), BODY, expectedCrc));
    assertThat(upstream.lastUploadFraming())
        .as("framing of the chunked upload, as the upstream got it")
        .isEqualTo(StreamingUpstream.Framing.CHUNKED);
    transfers.add(checked(download(BODY, true), BODY, expectedCrc));
    transfers.add(checked(download(BODY, false), BODY, expectedCrc));

    Collection after = gc.collectFully(dp);
    List<Collection> during =
        gc.collections().stream().filter(c -> c.id() > before.id() && c.id() < after.id()).toList();
    long peakDuring = during.stream().mapToLong(Collection::afterMiB).max().orElse(0);

    System.out.printf(
        Locale.ROOT,
        "[large-body] %s; DP heap after GC: %d MiB before, peak %d MiB over %d collections during,"
            + " %d MiB after (margin %d MiB)%n",
        String.join(", ", transfers.stream().map(Transfer::toString).toList()),
        before.afterMiB(),
        peakDuring,
        during.size(),
        after.afterMiB(),
        HEAP_MARGIN_MIB);

    long limit = before.afterMiB() + HEAP_MARGIN_MIB;
    assertThat(during)
        .as("collections during the transfers whose heap after exceeds %d MiB", limit)
        .filteredOn(c -> c.afterMiB() > limit)
        .isEmpty();
    assertThat(after.afterMiB())
        .as("live heap after the transfers (%s) vs before (%s)", after, before)
        .isLessThanOrEqualTo(limit);

    assertThat(dp.isAlive()).as(dp.describeLog(40)).isTrue();
    checked(download(1024, true), 1024, PseudoRandomBody.crc32(1024));
    assertThat(String.join("\n", dp.logTail(2000)))
        .as("DP log")
        .doesNotContain("OutOfMemoryError")
        .doesNotContain("OutOfDirectMemoryError")
        .doesNotContain("LEAK:");
  }

  /** One body through the proxy: which way, how it was framed, what arrived and how fast. */
  private record Transfer(String direction, boolean withLength, long bytes, long crc, long nanos) {

    double mibPerSecond() {
      return bytes / (double) MIB / (nanos / 1e9);
    }

    @Override
    public String toString() {
      return String.format(
          Locale.ROOT,
          "%s %s %d MiB at %.0f MiB/s",
          direction,
          withLength ? "length" : "chunked",
          bytes / MIB,
          mibPerSecond());
    }
  }

  private static Transfer checked(Transfer transfer, long expectedBytes, long expectedCrc) {
    assertThat(transfer.bytes()).as("%s: bytes", transfer).isEqualTo(expectedBytes);
    assertThat(transfer.crc()).as("%s: CRC32", transfer).isEqualTo(expectedCrc);
    return transfer;
  }

  /** Sends a body made chunk by chunk; the upstream answers with what it counted. */
  private Transfer upload(long length, boolean withLength) {
    long start = System.nanoTime();
    JsonNode counted =
        client
            .headers(
                headers -> {
                  if (withLength) {
                    headers.set(HttpHeaderNames.CONTENT_LENGTH, Long.toString(length));
                  }
                })
            .post()
            .uri(proxyUrl("/upload"))
            .send(PseudoRandomBody.of(length))
            .responseSingle(
                (response, body) -> {
                  assertThat(response.status().code())
                      .as("POST /upload of %d bytes", length)
                      .isEqualTo(200);
                  return body.asString(StandardCharsets.UTF_8).map(Http::parse);
                })
            .block(STALL_LIMIT);
    long nanos = System.nanoTime() - start;
    return new Transfer(
        "upload",
        withLength,
        counted.path("bytes").asLong(-1),
        counted.path("crc32").asLong(-1),
        nanos);
  }

  /** Reads a body as it arrives, counting its bytes and its CRC32. */
  private Transfer download(long length, boolean withLength) {
    long start = System.nanoTime();
    CRC32 crc = new CRC32();
    AtomicLong bytes = new AtomicLong();
    client
        .get()
        .uri(proxyUrl("/download?bytes=" + length + (withLength ? "" : "&chunked=true")))
        .response(
            (response, body) -> {
              assertThat(response.status().code())
                  .as("GET /download of %d bytes", length)
                  .isEqualTo(200);
              if (withLength) {
                assertThat(response.responseHeaders().get(HttpHeaderNames.CONTENT_LENGTH))
                    .isEqualTo(Long.toString(length));
              } else {
                assertThat(
                        response
                            .responseHeaders()
                            .containsValue(
                                HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED, true))
                    .as("chunked answer, headers %s", response.responseHeaders())
                    .isTrue();
              }
              return body.doOnNext(
                  buf -> {
                    bytes.addAndGet(buf.readableBytes());
                    PseudoRandomBody.update(crc, buf);
                  });
            })
        .then()
        .block(STALL_LIMIT);
    return new Transfer(
        "download", withLength, bytes.get(), crc.getValue(), System.nanoTime() - start);
  }

  private String proxyUrl(String pathAndQuery) {
    return "http://127.0.0.1:" + proxyPort + pathAndQuery;
  }

  /** APISIX's standalone data plane: routes from apisix.yaml, no CP. */
  private BallastNode standaloneDataPlane(Path dir) {
    proxyPort = FreePorts.next();
    int statusPort = FreePorts.next();
    String config = Configs.fileDataPlane(dir, dir.resolve("apisix.yaml"), proxyPort, statusPort);
    String routes =
        """
        upstreams:
          - id: streaming
            type: roundrobin
            nodes:
              "%s": 1
        routes:
          - id: upload
            uri: /upload
            methods: [POST]
            upstream_id: streaming
          - id: download
            uri: /download
            methods: [GET]
            upstream_id: streaming
        #END
        """
            .formatted(upstream.hostPort());
    BallastNode node = BallastNode.of("dp-large-body", dir, statusPort, config);
    try {
      Files.writeString(dir.resolve("apisix.yaml"), routes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("could not write " + dir.resolve("apisix.yaml"), e);
    }
    return node;
  }
}
