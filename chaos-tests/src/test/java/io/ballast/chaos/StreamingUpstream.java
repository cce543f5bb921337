package io.ballast.chaos;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The upstream for large bodies, on a free loopback port: {@code POST /upload} reads the body as it
 * arrives and answers {@code {"bytes":N,"crc32":C}}; {@code GET /download?bytes=N} sends N bytes of
 * {@link PseudoRandomBody} with a Content-Length, or chunked when the query also has {@code
 * chunked=true}. Neither side ever holds a body.
 */
final class StreamingUpstream implements AutoCloseable {

  /** How the last upload was framed when it reached this server. */
  enum Framing {
    LENGTH,
    CHUNKED,
    NONE
  }

  private final AtomicReference<Framing> lastUploadFraming = new AtomicReference<>();
  private final DisposableServer server;

  private StreamingUpstream() {
    server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .route(routes -> routes.post("/upload", this::upload).get("/download", this::download))
            .bindNow();
  }

  static StreamingUpstream start() {
    return new StreamingUpstream();
  }

  /** The upstream node as a route names it: {@code 127.0.0.1:<port>}. */
  String hostPort() {
    return "127.0.0.1:" + server.port();
  }

  Framing lastUploadFraming() {
    return lastUploadFraming.get();
  }

  private Publisher<Void> upload(HttpServerRequest request, HttpServerResponse response) {
    lastUploadFraming.set(framing(request));
    CRC32 crc = new CRC32();
    long[] bytes = {0};
    return request
        .receive()
        .doOnNext(
            buf -> {
              bytes[0] += buf.readableBytes();
              PseudoRandomBody.update(crc, buf);
            })
        .then(
            Mono.defer(
                () ->
                    response
                        .header(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                        .sendString(
                            Mono.just(
                                "{\"bytes\":%d,\"crc32\":%d}".formatted(bytes[0], crc.getValue())))
                        .then()));
  }

  private Publisher<Void> download(HttpServerRequest request, HttpServerResponse response) {
    QueryStringDecoder query = new QueryStringDecoder(request.uri());
    List<String> lengths = query.parameters().get("bytes");
    if (lengths == null || lengths.size() != 1 || !lengths.get(0).matches("[0-9]{1,12}")) {
      return response
          .status(HttpResponseStatus.BAD_REQUEST)
          .sendString(Mono.just("query parameter 'bytes' must be one non-negative integer"));
    }
    long length = Long.parseLong(lengths.get(0));
    boolean chunked = query.parameters().getOrDefault("chunked", List.of()).contains("true");
    response.header(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM);
    if (!chunked) {
      response.header(HttpHeaderNames.CONTENT_LENGTH, Long.toString(length));
    }
    return response.send(PseudoRandomBody.of(length));
  }

  private static Framing framing(HttpServerRequest request) {
    if (request.requestHeaders().contains(HttpHeaderNames.CONTENT_LENGTH)) {
      return Framing.LENGTH;
    }
    return request
            .requestHeaders()
            .containsValue(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED, true)
        ? Framing.CHUNKED
        : Framing.NONE;
  }

  @Override
  public void close() {
    server.disposeNow();
  }
}
