package io.ballast.controlplane;

import io.ballast.config.GoDuration;
import io.ballast.gateway.tls.ChannelTls;
import io.ballast.resource.ErrorJson;
import io.ballast.snapshot.ConfServerProtocol;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.snapshot.VerifiedSnapshot;
import java.security.cert.X509Certificate;
import java.time.Clock;
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
 * The endpoint data planes follow ({@code conf_server.listen}, 9280), serving the exports {@link
 * SnapshotBuilder} builds as {@link ConfServerProtocol} describes (format 2). The manifest is the
 * signed bytes the builder made and each part body the exact bytes it wrote, verified by the DP
 * exactly as an export read from object storage.
 */
public final class ConfServerApi {

  private final SnapshotBuilder builder;
  private final String gatewayGroup;
  private final Predicate<X509Certificate[]> trustedNow;
  private final Clock clock;

  /**
   * @param gatewayGroup the group whose snapshots {@code builder} builds, the only one a client
   *     certificate may name
   */
  public ConfServerApi(SnapshotBuilder builder, String gatewayGroup) {
    this(builder, gatewayGroup, chain -> true, Clock.systemUTC());
  }

  /**
   * @param trustedNow whether a client certificate, verified at its handshake, still chains to the
   *     client CA in force now (the CA file may have been replaced since)
   */
  public ConfServerApi(
      SnapshotBuilder builder,
      String gatewayGroup,
      Predicate<X509Certificate[]> trustedNow,
      Clock clock) {
    this.builder = builder;
    this.gatewayGroup = gatewayGroup;
    this.trustedNow = trustedNow;
    this.clock = clock;
  }

  public RouterFunction<ServerResponse> routes() {
    return RouterFunctions.route()
        .GET(ConfServerProtocol.EXPORT_PATH, this::export)
        .GET(ConfServerProtocol.EXPORT_PATH + "/{version}/{kind}", this::part)
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

  /**
   * The export long poll: the signed manifest of an export newer than {@code If-None-Match} as soon
   * as one exists, else 304 with the CP's own version when {@code wait} runs out. Every answer
   * names the store's lineage and carries {@code Date}, from which a DP tells its clock's skew.
   */
  private Mono<ServerResponse> export(ServerRequest request) {
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
        .exports()
        // Only newer: a DP ahead of this CP (e.g. one restarted with an empty store) would ignore
        // an older export and ask again at once, in a loop.
        .filter(export -> export.version() > knownVersion)
        .next()
        .timeout(wait, Mono.empty())
        .flatMap(
            export ->
                ServerResponse.ok()
                    .contentType(MediaType.APPLICATION_JSON)
                    .eTag(ConfServerProtocol.etagOf(export.version()))
                    .headers(this::channelHeaders)
                    .bodyValue(export.signed().json()))
        .switchIfEmpty(
            Mono.defer(
                () ->
                    builder
                        .current()
                        // The ETag of a 304 is the CP's own version, so that a DP holding the
                        // same version (say, read from storage) knows the CP confirms it, and a
                        // DP ahead of it knows the CP is behind.
                        .map(
                            current ->
                                ServerResponse.status(HttpStatus.NOT_MODIFIED)
                                    .eTag(ConfServerProtocol.etagOf(current.version()))
                                    .headers(this::channelHeaders)
                                    .build())
                        .orElseGet(
                            () -> error(HttpStatus.SERVICE_UNAVAILABLE, "no export built yet"))));
  }

  private void channelHeaders(HttpHeaders headers) {
    headers.set(ConfServerProtocol.LINEAGE_HEADER, builder.lineage());
    headers.setDate(clock.millis());
  }

  private Mono<ServerResponse> part(ServerRequest request) {
    Optional<SnapshotKind> kind;
    try {
      kind = Optional.of(SnapshotKind.fromId(request.pathVariable("kind")));
    } catch (IllegalArgumentException e) {
      return error(
          HttpStatus.NOT_FOUND, "unknown snapshot kind '" + request.pathVariable("kind") + "'");
    }
    String version = request.pathVariable("version");
    Optional<VerifiedExport> export;
    try {
      export = builder.kept(Long.parseLong(version));
    } catch (NumberFormatException e) {
      export = Optional.empty();
    }
    if (export.isEmpty()) {
      return error(HttpStatus.NOT_FOUND, "export " + version + " is no longer kept; poll again");
    }
    VerifiedSnapshot part = export.get().part(kind.get());
    return ServerResponse.ok()
        .contentType(MediaType.parseMediaType("application/gzip"))
        .eTag(ConfServerProtocol.etagOf(part.version()))
        .body(BodyInserters.fromResource(new FileSystemResource(part.body())));
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
