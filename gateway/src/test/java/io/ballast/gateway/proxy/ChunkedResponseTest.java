package io.ballast.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.route.RouteTable;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.netty.DisposableServer;
import tools.jackson.databind.node.ObjectNode;

/**
 * An upstream answer without a Content-Length reaches an HTTP/1.1 client chunked, so that the
 * client can tell its end from a connection lost in the middle of it.
 */
class ChunkedResponseTest {

  private volatile RouteTable table = RouteTable.empty();
  private ProxyServer proxy;
  private DisposableServer bound;
  private HttpClient http;

  @BeforeEach
  void startProxy() {
    proxy = new ProxyServer(() -> table, ProxyOptions.defaults());
    bound = proxy.start("127.0.0.1", 0).block(Duration.ofSeconds(10));
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  }

  @AfterEach
  void stopProxy() {
    proxy.dispose();
  }

  private void routeTo(String address) {
    ObjectNode value =
        (ObjectNode)
            TestUpstream.JSON.readTree(
                "{\"id\": \"r1\", \"uri\": \"/*\", \"upstream\": {\"nodes\": {\""
                    + address
                    + "\": 1}}}");
    table =
        RouteTable.compile(
            List.of(Resource.parse(ResourceType.ROUTES, "r1", value)), Map.of(), Map.of());
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + bound.port() + path);
  }

  @Test
  void streamedAnswerOfUnknownLengthIsChunked() throws Exception {
    try (TestUpstream upstream = new TestUpstream("one")) {
      routeTo(upstream.address());
      // /echo streams the request body back without a Content-Length.
      HttpResponse<String> echoed =
          http.send(
              HttpRequest.newBuilder(uri("/echo")).POST(BodyPublishers.ofString("abc")).build(),
              BodyHandlers.ofString());

      assertThat(echoed.statusCode()).isEqualTo(200);
      assertThat(echoed.body()).isEqualTo("abc");
      assertThat(echoed.headers().firstValue("transfer-encoding")).contains("chunked");
      assertThat(echoed.headers().firstValue("connection")).isEmpty();
    }
  }

  @Test
  void answerWithALengthKeepsItAndIsNotChunked() throws Exception {
    try (TestUpstream upstream = new TestUpstream("one")) {
      routeTo(upstream.address());
      HttpResponse<byte[]> downloaded =
          http.send(
              HttpRequest.newBuilder(uri("/download?bytes=100000")).build(),
              BodyHandlers.ofByteArray());

      assertThat(downloaded.statusCode()).isEqualTo(200);
      assertThat(downloaded.body()).hasSize(100_000);
      assertThat(downloaded.headers().firstValue("content-length")).contains("100000");
      assertThat(downloaded.headers().firstValue("transfer-encoding")).isEmpty();
    }
  }

  @Test
  void upstreamLostMidBodyIsAnErrorForTheClientNotAShortBody() throws Exception {
    try (ServerSocket upstream = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      routeTo("127.0.0.1:" + upstream.getLocalPort());
      CompletableFuture<Void> answered =
          CompletableFuture.runAsync(() -> answerHalfAndClose(upstream));

      assertThatThrownBy(
              () -> http.send(HttpRequest.newBuilder(uri("/cut")).build(), BodyHandlers.ofString()))
          .isInstanceOf(IOException.class);
      answered.get();
    }
  }

  /** Reads one request head, starts a chunked answer and closes before its last chunk. */
  private static void answerHalfAndClose(ServerSocket server) {
    try (Socket socket = server.accept()) {
      socket.setSoTimeout(10_000);
      InputStream in = socket.getInputStream();
      int matched = 0;
      byte[] end = "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
      while (matched < end.length) {
        int b = in.read();
        if (b < 0) {
          return;
        }
        matched = b == end[matched] ? matched + 1 : (b == end[0] ? 1 : 0);
      }
      OutputStream out = socket.getOutputStream();
      out.write(
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
              .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
