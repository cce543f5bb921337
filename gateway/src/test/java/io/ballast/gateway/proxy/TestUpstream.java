package io.ballast.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.ssl.SslContext;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A real upstream on 127.0.0.1 and a free port, answering by path:
 *
 * <ul>
 *   <li>{@code /echo}: streams the request body back, method and uri in {@code x-echo-*} headers
 *   <li>{@code /sha256}: the hex SHA-256 of the request body, digested as it streams in
 *   <li>{@code /download?bytes=N}: N deterministic bytes ({@link #pattern}), streamed
 *   <li>{@code /delay?ms=N}: answers after N milliseconds
 *   <li>anything else: JSON with method, uri, headers (name → values joined by ", ") and name
 * </ul>
 *
 * Every answer carries hop-by-hop headers that the proxy must drop.
 */
final class TestUpstream implements AutoCloseable {

  static final JsonMapper JSON = JsonMapper.builder().build();
  static final int CHUNK = 64 * 1024;

  final String name;
  final AtomicInteger requests = new AtomicInteger();

  /** The client port of every request, in arrival order: a new port is a new connection. */
  final List<Integer> remotePorts = new CopyOnWriteArrayList<>();

  final DisposableServer server;

  TestUpstream(String name) {
    this(name, null);
  }

  /** An upstream speaking TLS with {@code tls}'s certificate when it is not {@code null}. */
  TestUpstream(String name, SslContext tls) {
    this.name = name;
    HttpServer http = HttpServer.create().host("127.0.0.1").port(0).handle(this::handle);
    if (tls != null) {
      http = http.secure(spec -> spec.sslContext(tls));
    }
    this.server = http.bindNow();
  }

  int port() {
    return server.port();
  }

  String address() {
    return "127.0.0.1:" + port();
  }

  @Override
  public void close() {
    server.disposeNow();
  }

  /** Byte {@code i} of every generated body. */
  static byte pattern(long i) {
    return (byte) (i * 31 + (i >>> 8));
  }

  private Mono<Void> handle(HttpServerRequest req, HttpServerResponse res) {
    requests.incrementAndGet();
    remotePorts.add(req.remoteAddress().getPort());
    res.header("Keep-Alive", "timeout=30")
        .header(HttpHeaderNames.CONNECTION, "keep-alive, X-Upstream-Hop")
        .header("X-Upstream-Hop", "drop me")
        .header("X-Upstream", name);
    String path = req.fullPath();
    Map<String, String> params = query(req.uri());
    switch (path) {
      case "/echo":
        return res.header("x-echo-method", req.method().name())
            .header("x-echo-uri", req.uri())
            .send(req.receive().retain())
            .then();
      case "/sha256":
        MessageDigest digest = sha256();
        return req.receive()
            .doOnNext(buf -> update(digest, buf))
            .then(Mono.defer(() -> res.sendString(Mono.just(hex(digest.digest()))).then()));
      case "/download":
        long size = Long.parseLong(params.get("bytes"));
        res.header(HttpHeaderNames.CONTENT_LENGTH, Long.toString(size));
        return res.send(generate(size)).then();
      case "/delay":
        long ms = Long.parseLong(params.get("ms"));
        return Mono.delay(Duration.ofMillis(ms))
            .then(Mono.defer(() -> res.sendString(Mono.just(name)).then()));
      default:
        ObjectNode json = JSON.createObjectNode();
        json.put("name", name);
        json.put("method", req.method().name());
        json.put("uri", req.uri());
        ObjectNode headers = json.putObject("headers");
        for (String header : req.requestHeaders().names()) {
          headers.put(header.toLowerCase(), String.join(", ", req.requestHeaders().getAll(header)));
        }
        return req.receive()
            .then(
                Mono.defer(
                    () ->
                        res.header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                            .sendString(Mono.just(json.toString()))
                            .then()));
    }
  }

  static Flux<ByteBuf> generate(long size) {
    return Flux.generate(
        () -> 0L,
        (offset, sink) -> {
          if (offset >= size) {
            sink.complete();
            return offset;
          }
          int length = (int) Math.min(CHUNK, size - offset);
          byte[] chunk = new byte[length];
          for (int i = 0; i < length; i++) {
            chunk[i] = pattern(offset + i);
          }
          sink.next(Unpooled.wrappedBuffer(chunk));
          return offset + length;
        });
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }

  private static void update(MessageDigest digest, ByteBuf buf) {
    byte[] bytes = new byte[buf.readableBytes()];
    buf.getBytes(buf.readerIndex(), bytes);
    digest.update(bytes);
  }

  private static Map<String, String> query(String uri) {
    int q = uri.indexOf('?');
    if (q < 0) {
      return Map.of();
    }
    Map<String, String> params = new HashMap<>();
    for (String pair : uri.substring(q + 1).split("&")) {
      int eq = pair.indexOf('=');
      params.put(eq < 0 ? pair : pair.substring(0, eq), eq < 0 ? "" : pair.substring(eq + 1));
    }
    return params;
  }
}
