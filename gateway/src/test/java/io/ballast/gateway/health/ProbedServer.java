package io.ballast.gateway.health;

import io.ballast.resource.UpstreamNode;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.security.cert.CertificateException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.server.HttpServer;

/**
 * A real upstream on 127.0.0.1 for probes to hit: answers every request with {@link #status}, or
 * never when {@link #hang} is set; counts connections and requests; can be stopped and started
 * again on the same port.
 */
final class ProbedServer implements AutoCloseable {

  final AtomicInteger status = new AtomicInteger(200);
  final AtomicBoolean hang = new AtomicBoolean();
  final AtomicInteger connections = new AtomicInteger();
  final AtomicInteger requests = new AtomicInteger();
  final AtomicReference<String> lastUri = new AtomicReference<>();
  final AtomicReference<HttpHeaders> lastHeaders = new AtomicReference<>();
  private final SelfSignedCertificate certificate;
  private final int port;
  private DisposableServer server;

  ProbedServer() {
    this(false);
  }

  /** With {@code tls}, serves HTTPS with a self-signed certificate no client trusts. */
  ProbedServer(boolean tls) {
    try {
      certificate = tls ? new SelfSignedCertificate("localhost") : null;
    } catch (CertificateException e) {
      throw new IllegalStateException("cannot make a self-signed certificate", e);
    }
    server = bind(0);
    port = server.port();
  }

  private DisposableServer bind(int port) {
    HttpServer http = HttpServer.create();
    if (certificate != null) {
      http =
          http.secure(
              ssl ->
                  ssl.sslContext(
                      Http11SslContextSpec.forServer(
                          certificate.certificate(), certificate.privateKey())));
    }
    return http.host("127.0.0.1")
        .port(port)
        // Per accepted channel: an HTTP server's doOnConnection fires per request, not per accept.
        .doOnChannelInit((observer, channel, address) -> connections.incrementAndGet())
        .handle(
            (request, response) -> {
              requests.incrementAndGet();
              lastUri.set(request.uri());
              lastHeaders.set(request.requestHeaders().copy());
              if (hang.get()) {
                return Mono.never();
              }
              return response.status(HttpResponseStatus.valueOf(status.get())).send();
            })
        .bindNow();
  }

  UpstreamNode node() {
    return new UpstreamNode("127.0.0.1", port, 1);
  }

  void stop() {
    server.disposeNow();
  }

  void start() {
    server = bind(port);
  }

  @Override
  public void close() {
    server.disposeNow();
    if (certificate != null) {
      certificate.delete();
    }
  }
}
