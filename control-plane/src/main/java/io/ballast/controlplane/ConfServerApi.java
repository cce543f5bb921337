package io.ballast.controlplane;

import io.ballast.config.GoDuration;
import io.ballast.gateway.tls.ChannelTls;
import io.ballast.resource.ErrorJson;
import io.ballast.snapshot.ConfServerProtocol;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.VerifiedSnapshot;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Predicate;
import org.springframework.core.io.FileSystemResource;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.SslInfo;
import org.springframework.web.reactive.function.BodyInserters;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * The endpoint data planes follow ({@code conf_server.listen}, 9280), serving the snapshots {@link
 * SnapshotBuilder} builds as {@link ConfServerProtocol} describes. A body is served as the exact
 * bytes the builder wrote, verified by the DP against the manifest exactly as a body read from
 * object storage.
 */
public final class ConfServerApi {

  private final SnapshotBuilder builder;
  private final String gatewayGroup;
  private final Predicate<X509Certificate[]> trustedNow;

  /**
   * @param gatewayGroup the group whose snapshots {@code builder} builds, the only one a client
   *     certificate may name
   */
  public ConfServerApi(SnapshotBuilder builder, String gatewayGroup) {
    this(builder, gatewayGroup, chain -> true);
  }

  /**
   * @param trustedNow whether a client certificate, verified at its handshake, still chains to the
   *     client CA in force now (the CA file may have been replaced since)
   */
  public ConfServerApi(
      SnapshotBuilder builder, String gatewayGroup, Predicate<X509Certificate[]> trustedNow) {
    this.builder = builder;
    this.gatewayGroup = gatewayGroup;
    this.trustedNow = trustedNow;
  }

  public RouterFunction<ServerResponse> routes() {
    return RouterFunctions.route()
        .GET(ConfServerProtocol.PATH + "/{kind}", this::manifest)
        .GET(ConfServerProtocol.PATH + "/{kind}/{version}", this::body)
        .filter(
            (request, next) ->
                groupRefusal(request)
                    .map(ConfServerApi::forbidden)
                    .orElseGet(() -> next.handle(request)))
        .build();
  }

  /**
   * A data plane's client certificate names its gateway group in its subject CN; it may read only
   * that group's snapshots. Without client certificates ({@code client_ca_cert} unset) there is no
   * group to check. The handshake verified the certificate against the CA of that moment; it is
   * checked again against the CA in force now, which may have been replaced since.
   */
  private Optional<String> groupRefusal(ServerRequest request) {
    SslInfo ssl = request.exchange().getRequest().getSslInfo();
    X509Certificate[] peer = ssl == null ? null : ssl.getPeerCertificates();
    if (peer == null || peer.length == 0) {
      return Optional.empty();
    }
    if (!trustedNow.test(peer)) {
      return Optional.of(
          "the client certificate no longer chains to the control plane's client_ca_cert");
    }
    Optional<String> group = ChannelTls.gatewayGroupOf(peer[0]);
    if (group.isEmpty()) {
      return Optional.of(
          "the client certificate names no gateway group (subject CN); this control plane serves"
              + " gateway group '"
              + gatewayGroup
              + "'");
    }
    if (group.get().equals(gatewayGroup)) {
      return Optional.empty();
    }
    return Optional.of(
        "the client certificate is for gateway group '"
            + group.get()
            + "'; this control plane serves gateway group '"
            + gatewayGroup
            + "'");
  }

  private static Mono<ServerResponse> forbidden(String message) {
    return error(HttpStatus.FORBIDDEN, message);
  }

  private Mono<ServerResponse> manifest(ServerRequest request) {
    Optional<SnapshotKind> kind = kind(request);
    if (kind.isEmpty()) {
      return error(
          HttpStatus.NOT_FOUND, "unknown snapshot kind '" + request.pathVariable("kind") + "'");
    }
    Duration wait;
    try {
      wait =
          request
              .queryParam(ConfServerProtocol.WAIT)
              .map(ConfServerApi::parseWait)
              .orElse(Duration.ZERO);
    } catch (IllegalArgumentException e) {
      return error(HttpStatus.BAD_REQUEST, e.getMessage());
    }
    String known = request.headers().firstHeader(HttpHeaders.IF_NONE_MATCH);
    long knownVersion = ConfServerProtocol.versionOf(known);
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
                    .eTag(ConfServerProtocol.etagOf(snapshot.version()))
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
                                    .eTag(ConfServerProtocol.etagOf(current.version()))
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
        .eTag(ConfServerProtocol.etagOf(current.get().version()))
        .body(BodyInserters.fromResource(new FileSystemResource(current.get().body())));
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
    if (wait.compareTo(ConfServerProtocol.MAX_WAIT) > 0) {
      throw new IllegalArgumentException(
          "wait must be at most " + ConfServerProtocol.MAX_WAIT.toSeconds() + "s");
    }
    return wait;
  }

  private static Mono<ServerResponse> error(HttpStatus status, String message) {
    return ServerResponse.status(status)
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(ErrorJson.of(message));
  }
}
