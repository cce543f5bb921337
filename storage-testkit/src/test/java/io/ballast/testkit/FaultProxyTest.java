package io.ballast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FaultProxyTest {

  private static final byte[] BODY = new byte[10_000];

  static {
    Arrays.fill(BODY, (byte) 'a');
  }

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private HttpServer server;
  private FaultProxy proxy;

  /** A server that answers GET with {@link #BODY} and POST with the count of 'a' bytes received. */
  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          byte[] received = exchange.getRequestBody().readAllBytes();
          long as = 0;
          for (byte b : received) {
            as += b == 'a' ? 1 : 0;
          }
          byte[] answer =
              exchange.getRequestMethod().equals("GET")
                  ? BODY
                  : String.valueOf(as).getBytes(StandardCharsets.US_ASCII);
          exchange.sendResponseHeaders(200, answer.length);
          exchange.getResponseBody().write(answer);
          exchange.close();
        });
    server.start();
    proxy = FaultProxy.start(server.getAddress().getPort());
  }

  @AfterEach
  void stop() {
    proxy.close();
    server.stop(0);
  }

  @Test
  void passForwardsAndCountsBothWays() throws Exception {
    HttpResponse<byte[]> answer = send(get());

    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo(BODY);
    assertThat(proxy.bytesFromServer()).isGreaterThan(BODY.length);
    assertThat(proxy.bytesToServer()).isPositive();
    assertThat(proxy.requestHeads()).singleElement().asString().startsWith("get /x http/1.1\r\n");
    proxy.resetCounters();
    assertThat(proxy.bytesFromServer()).isZero();
    assertThat(proxy.requestHeads()).isEmpty();
  }

  @Test
  void http500AnswersEveryRequest() throws Exception {
    proxy.mode(FaultProxy.Mode.HTTP_500);

    HttpResponse<byte[]> answer = send(get());

    assertThat(answer.statusCode()).isEqualTo(500);
    assertThat(new String(answer.body(), StandardCharsets.US_ASCII)).contains("InternalError");
  }

  @Test
  void http503AnswersSlowDownAndCountsIt() throws Exception {
    proxy.mode(FaultProxy.Mode.HTTP_503);

    HttpResponse<byte[]> first = send(get());
    send(get());

    assertThat(first.statusCode()).isEqualTo(503);
    assertThat(new String(first.body(), StandardCharsets.US_ASCII)).contains("SlowDown");
    assertThat(proxy.errorAnswers()).isEqualTo(2);
  }

  @Test
  void refuseClosesThePortAndPassOpensItAgain() throws Exception {
    proxy.mode(FaultProxy.Mode.REFUSE);

    assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), proxy.port()).close())
        .isInstanceOf(java.net.ConnectException.class);

    proxy.mode(FaultProxy.Mode.PASS);

    assertThat(send(get()).statusCode()).isEqualTo(200);
  }

  @Test
  void slowDelaysRequestsAndPacesAnswers() throws Exception {
    proxy.slow(Duration.ofMillis(300), 20_000);

    long started = System.nanoTime();
    HttpResponse<byte[]> answer = send(get());
    long millis = (System.nanoTime() - started) / 1_000_000;

    assertThat(answer.body()).isEqualTo(BODY);
    // 300 ms held, then 10,000 bytes at 20,000 bytes/s in 2,000-byte pieces 100 ms apart: the
    // last piece arrives 0.7 s after the request at the earliest.
    assertThat(millis).isGreaterThanOrEqualTo(650);
  }

  @Test
  void targetSwitchesTheServerForNewConnections() throws Exception {
    HttpServer other =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    other.createContext(
        "/",
        exchange -> {
          exchange.sendResponseHeaders(204, -1);
          exchange.close();
        });
    other.start();
    try {
      proxy.target(other.getAddress().getPort());

      assertThat(send(get()).statusCode()).isEqualTo(204);
      assertThat(proxy.connections()).isPositive();
    } finally {
      other.stop(0);
    }
  }

  @Test
  void stallHoldsAConnectionAlreadyOpen() throws Exception {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
      socket.setSoTimeout(500);
      byte[] request = "GET /x HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
      socket.getOutputStream().write(request);
      socket.setSoTimeout(5_000);
      readAnswer(socket);
      socket.setSoTimeout(500);

      proxy.stall();
      socket.getOutputStream().write(request);

      assertThatThrownBy(() -> socket.getInputStream().read())
          .isInstanceOf(java.net.SocketTimeoutException.class);
      assertThat(socket.isClosed()).isFalse();
    }
  }

  @Test
  void resetFailsTheRequest() {
    proxy.mode(FaultProxy.Mode.RESET);

    assertThatThrownBy(() -> send(get())).isInstanceOf(IOException.class);
  }

  @Test
  void hangNeverAnswers() {
    proxy.mode(FaultProxy.Mode.HANG);

    assertThatThrownBy(() -> send(get().timeout(Duration.ofMillis(500))))
        .isInstanceOf(HttpTimeoutException.class);
  }

  @Test
  void corruptionFlipsOneByteOfOneRequestBody() throws Exception {
    proxy.corruptNextRequestBody();

    HttpResponse<byte[]> first = send(post());
    HttpResponse<byte[]> second = send(post());

    assertThat(new String(first.body(), StandardCharsets.US_ASCII))
        .isEqualTo(String.valueOf(BODY.length - 1));
    assertThat(new String(second.body(), StandardCharsets.US_ASCII))
        .isEqualTo(String.valueOf(BODY.length));
    assertThat(proxy.corruptionPending()).isFalse();
  }

  @Test
  void backToPassServesAgain() throws Exception {
    proxy.mode(FaultProxy.Mode.RESET);
    proxy.mode(FaultProxy.Mode.PASS);

    assertThat(send(get()).statusCode()).isEqualTo(200);
  }

  @Test
  void answerEndedByTheServerClosingReachesTheClient() throws Exception {
    // Like S3Proxy refusing a corrupt body: "Connection: close", no length, then the close.
    try (ServerSocket raw = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        FaultProxy closing = FaultProxy.start(raw.getLocalPort())) {
      Thread serverThread =
          new Thread(
              () -> {
                try (Socket socket = raw.accept()) {
                  socket.getInputStream().read(new byte[4096]);
                  socket
                      .getOutputStream()
                      .write(
                          "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\nrefused"
                              .getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                  // the test fails on the client side
                }
              });
      serverThread.start();

      // The request timeout ends at the headers; a body that never ends must fail the wait too.
      HttpResponse<byte[]> answer =
          http.sendAsync(
                  HttpRequest.newBuilder(closing.endpoint().resolve("/x")).build(),
                  HttpResponse.BodyHandlers.ofByteArray())
              .get(10, TimeUnit.SECONDS);

      assertThat(answer.statusCode()).isEqualTo(400);
      assertThat(new String(answer.body(), StandardCharsets.US_ASCII)).isEqualTo("refused");
      serverThread.join();
    }
  }

  /** Reads one answer to GET: its head up to the blank line, then the body of BODY's length. */
  private static void readAnswer(Socket socket) throws IOException {
    var in = socket.getInputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      assertThat(b).as("answer head").isNotEqualTo(-1);
      matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    assertThat(in.readNBytes(BODY.length)).isEqualTo(BODY);
  }

  private HttpRequest.Builder get() {
    return HttpRequest.newBuilder(proxy.endpoint().resolve("/x")).timeout(Duration.ofSeconds(10));
  }

  private HttpRequest.Builder post() {
    return get().POST(HttpRequest.BodyPublishers.ofByteArray(BODY));
  }

  private HttpResponse<byte[]> send(HttpRequest.Builder request)
      throws IOException, InterruptedException {
    return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
  }
}
