package io.ballast.service;

import io.ballast.service.config.Listen;
import java.time.Duration;
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
    try {
      return HttpServer.create()
          .host(listen.ip())
          .port(listen.port())
          .handle(new ReactorHttpHandlerAdapter(RouterFunctions.toHttpHandler(routes)))
          .bindNow(Duration.ofSeconds(10));
    } catch (RuntimeException e) {
      throw ListenFailure.of(what, listen, e);
    }
  }
}
