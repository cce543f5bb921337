package io.ballast.service;

import io.ballast.resource.Json;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * {@code apisix.status} (7085): {@code GET /status} always answers with what the node serves, where
 * from and, on a node that serves traffic, why ({@code data_plane}: the mode, since when, the
 * reason and the last transitions); {@code GET /status/ready} answers 200 only while a
 * configuration is loaded, 503 otherwise, with the same body.
 */
public final class StatusApi {

  private StatusApi() {}

  public static RouterFunction<ServerResponse> routes(
      Supplier<Map<String, Object>> status, BooleanSupplier ready) {
    return RouterFunctions.route()
        .GET("/status", request -> respond(HttpStatus.OK, status.get()))
        .GET(
            "/status/ready",
            request ->
                respond(
                    ready.getAsBoolean() ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE,
                    status.get()))
        .build();
  }

  private static Mono<ServerResponse> respond(HttpStatus code, Map<String, Object> body) {
    return ServerResponse.status(code)
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Json.mapper().writeValueAsBytes(body));
  }
}
