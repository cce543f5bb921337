package io.ballast.service.controlplane;

import io.ballast.config.GoDuration;
import io.ballast.service.node.ErrorJson;
import io.ballast.service.node.VerifiedSnapshot;
import io.ballast.snapshot.SnapshotKind;
import java.time.Duration;
import java.util.Optional;
import org.springframework.core.io.FileSystemResource;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.BodyInserters;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * The endpoint data planes follow ({@code conf_server.listen}, 9280). Two calls per change:
 *
 * <ul>
 *   <li>{@code GET /ballast/v1/snapshots/{kind}} with {@code If-None-Match: "<version>"} and {@code
 *       ?wait=30s}: a long poll answering the manifest (ETag = its version) as soon as a newer
 *       snapshot exists, or 304 when {@code wait} runs out;
 *   <li>{@code GET /ballast/v1/snapshots/{kind}/{version}}: the gzip body those exact bytes name,
 *       verified by the DP against the manifest exactly as a body read from object storage.
 * </ul>
 */
public final class ConfServerApi {

  public static final String PATH = "/ballast/v1/snapshots";
  private static final Duration MAX_WAIT = Duration.ofSeconds(60);

  private final SnapshotBuilder builder;

  public ConfServerApi(SnapshotBuilder builder) {
    this.builder = builder;
  }

  public RouterFunction<ServerResponse> routes() {
    return RouterFunctions.route()
        .GET(PATH + "/{kind}", this::manifest)
        .GET(PATH + "/{kind}/{version}", this::body)
        .build();
  }

  /** The ETag of a snapshot on this endpoint: its version, quoted. */
  public static String etagOf(long version) {
    return "\"" + version + "\"";
  }

  private Mono<ServerResponse> manifest(ServerRequest request) {
    Optional<SnapshotKind> kind = kind(request);
    if (kind.isEmpty()) {
      return error(
          HttpStatus.NOT_FOUND, "unknown snapshot kind '" + request.pathVariable("kind") + "'");
    }
    Duration wait;
    try {
      wait = request.queryParam("wait").map(ConfServerApi::parseWait).orElse(Duration.ZERO);
    } catch (IllegalArgumentException e) {
      return error(HttpStatus.BAD_REQUEST, e.getMessage());
    }
    String known = request.headers().firstHeader(HttpHeaders.IF_NONE_MATCH);
    long knownVersion = versionOf(known);
    return builder
        .updates(kind.get())
        // Only newer: a DP ahead of this CP (e.g. one restarted with an empty store) would ignore
        // an older snapshot and ask again at once, in a loop.
        .filter(snapshot -> snapshot.version() > knownVersion)
        .next()
        .timeout(wait, Mono.empty())
        .flatMap(
            snapshot ->
                ServerResponse.ok()
                    .contentType(MediaType.APPLICATION_JSON)
                    .eTag(etagOf(snapshot.version()))
                    .bodyValue(snapshot.manifest().toJson()))
        .switchIfEmpty(
            Mono.defer(
                () ->
                    builder
                        .current(kind.get())
                        // The ETag of a 304 is the CP's own version, so that a DP holding the
                        // same version (say, read from storage) knows the CP confirms it.
                        .map(
                            current ->
                                ServerResponse.status(HttpStatus.NOT_MODIFIED)
                                    .eTag(etagOf(current.version()))
                                    .build())
                        .orElseGet(
                            () -> error(HttpStatus.SERVICE_UNAVAILABLE, "no snapshot built yet"))));
  }

  private Mono<ServerResponse> body(ServerRequest request) {
    Optional<SnapshotKind> kind = kind(request);
    if (kind.isEmpty()) {
      return error(
          HttpStatus.NOT_FOUND, "unknown snapshot kind '" + request.pathVariable("kind") + "'");
    }
    String version = request.pathVariable("version");
    Optional<VerifiedSnapshot> current = builder.current(kind.get());
    if (current.isEmpty() || !String.valueOf(current.get().version()).equals(version)) {
      return error(
          HttpStatus.NOT_FOUND,
          kind.get().id() + " snapshot " + version + " is not the current one; poll again");
    }
    return ServerResponse.ok()
        .contentType(MediaType.parseMediaType("application/gzip"))
        .eTag(etagOf(current.get().version()))
        .body(BodyInserters.fromResource(new FileSystemResource(current.get().body())));
  }

  /** The version an If-None-Match of {@link #etagOf} names; -1 (older than any) otherwise. */
  private static long versionOf(String etag) {
    if (etag == null || etag.length() < 3 || !etag.startsWith("\"") || !etag.endsWith("\"")) {
      return -1;
    }
    try {
      return Long.parseLong(etag.substring(1, etag.length() - 1));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static Optional<SnapshotKind> kind(ServerRequest request) {
    try {
      return Optional.of(SnapshotKind.fromId(request.pathVariable("kind")));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private static Duration parseWait(String text) {
    Duration wait = GoDuration.parse(text);
    if (wait.compareTo(MAX_WAIT) > 0) {
      throw new IllegalArgumentException("wait must be at most " + MAX_WAIT.toSeconds() + "s");
    }
    return wait;
  }

  private static Mono<ServerResponse> error(HttpStatus status, String message) {
    return ServerResponse.status(status)
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(ErrorJson.of(message));
  }
}
