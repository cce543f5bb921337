package io.ballast.service;

import io.ballast.service.config.Listen;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.Optional;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * Serves WebFlux functional endpoints on their own Reactor Netty server. A node listens on up to
 * four ports (proxy, admin, conf server, status), as APISIX does, which one Spring Boot web server
 * cannot; the control endpoints still get WebFlux's routing and codecs.
 */
public final class HttpEndpoints {

  private HttpEndpoints() {}

  /**
   * @param what the APISIX key of the address, named in the error if it cannot be bound
   */
  public static DisposableServer serve(
      String what, Listen listen, RouterFunction<ServerResponse> routes) {
    return serve(what, listen, routes, Optional.empty());
  }

  /**
   * @param tls the TLS context for every connection; plain HTTP without one
   */
  public static DisposableServer serve(
      String what, Listen listen, RouterFunction<ServerResponse> routes, Optional<SslContext> tls) {
    try {
      HttpServer server = HttpServer.create().host(listen.ip()).port(listen.port());
      if (tls.isPresent()) {
        server = server.secure(spec -> spec.sslContext(tls.get()));
      }
      return server
          .handle(new ReactorHttpHandlerAdapter(RouterFunctions.toHttpHandler(routes)))
          .bindNow(Duration.ofSeconds(10));
    } catch (RuntimeException e) {
      throw ListenFailure.of(what, listen, e);
    }
  }
}
