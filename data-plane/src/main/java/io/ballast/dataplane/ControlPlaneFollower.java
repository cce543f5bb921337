package io.ballast.dataplane;

import io.ballast.dataplane.SnapshotApplier.Source;
import io.ballast.fs.PrivateFiles;
import io.ballast.resource.ErrorJson;
import io.ballast.snapshot.ConfServerProtocol;
import io.ballast.snapshot.ExportManifest;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SignedExport;
import io.ballast.snapshot.SnapshotFiles;
import io.ballast.snapshot.SnapshotFormatException;
import io.ballast.snapshot.SnapshotIntegrityException;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotManifest;
import io.ballast.snapshot.VerifiedExport;
import io.ballast.snapshot.VerifiedSnapshot;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.util.retry.Retry;

/**
 * Follows the control plane's conf server: long polls for a newer export manifest, checks its
 * signature, streams both parts' bodies to temp files, verifies them and offers the export, both
 * parts or neither, to the data plane. When the CP cannot be reached the DP keeps serving; this
 * loop retries with jittered exponential backoff (200 ms to 5 s) over the configured CP hosts and
 * follows again as soon as one answers. Each answer and each failure is reported to the {@link
 * DataPlane}, which decides what they mean.
 *
 * <p>The long poll is the heartbeat: it asks with {@code wait} = the heartbeat interval, so a live
 * CP answers (304 at the latest) every interval, and silence longer than {@code wait} + interval,
 * waiting for an answer or between two reads of a body, means the CP hangs (a stopped process, a
 * half-open connection). Such a CP is given up within three intervals of its last word.
 */
public final class ControlPlaneFollower implements Follower {

  private static final Logger log = LoggerFactory.getLogger(ControlPlaneFollower.class);

  /** {@code deployment.role_data_plane.control_plane.heartbeat_interval}'s default. */
  public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(5);

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);

  private static final byte[] NO_BODY = new byte[0];

  /** A manifest poll's answer, read whole: a manifest is small. */
  private record Answer(int status, String etag, String date, String lineage, byte[] body) {}

  private final List<URI> hosts;
  private final String gatewayGroup;
  private final DataPlane dataPlane;
  private final Path downloadDir;
  private final SignatureVerifier verifier;
  private final ConnectionProvider connections;
  private final HttpClient manifests;
  private final HttpClient bodies;
  private final AtomicInteger hostIndex = new AtomicInteger();

  /** The long poll's {@code wait}: how often a live CP answers. */
  private final Duration heartbeat;

  /**
   * The newest version refused, so that the long poll waits for a newer one instead of spinning.
   */
  private volatile long refused = SnapshotApplier.NONE;

  /** Whether the last poll got a 304 or 200 (and so the next may wait for a change). */
  private volatile boolean answered;

  private Disposable loop;

  public ControlPlaneFollower(
      List<URI> hosts, String gatewayGroup, DataPlane dataPlane, Path downloadDir) {
    this(
        hosts,
        gatewayGroup,
        dataPlane,
        downloadDir,
        Optional.empty(),
        DEFAULT_HEARTBEAT,
        SignatureVerifier.notRequired());
  }

  public ControlPlaneFollower(
      List<URI> hosts,
      String gatewayGroup,
      DataPlane dataPlane,
      Path downloadDir,
      Optional<SslContext> tls,
      SignatureVerifier verifier) {
    this(hosts, gatewayGroup, dataPlane, downloadDir, tls, DEFAULT_HEARTBEAT, verifier);
  }

  /**
   * @param tls the context for {@code https://} hosts: the client certificate presented and the CAs
   *     trusted. Host names are verified either way (Reactor Netty's default for {@code https}).
   * @param heartbeat the long poll's {@code wait}; silence longer than {@code wait} + {@code
   *     heartbeat} gives the CP up
   * @param verifier checks each export manifest's signature before any body is read
   */
  public ControlPlaneFollower(
      List<URI> hosts,
      String gatewayGroup,
      DataPlane dataPlane,
      Path downloadDir,
      Optional<SslContext> tls,
      Duration heartbeat,
      SignatureVerifier verifier) {
    this.hosts = hosts;
    this.gatewayGroup = gatewayGroup;
    this.dataPlane = dataPlane;
    this.downloadDir = downloadDir;
    this.heartbeat = heartbeat;
    this.verifier = verifier;
    // One poll or one download at a time: two connections cover a body fetched while the
    // manifest's connection is still being released.
    this.connections =
        ConnectionProvider.builder("ballast-control-plane").maxConnections(2).build();
    HttpClient http =
        HttpClient.create(connections)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) CONNECT_TIMEOUT.toMillis());
    if (tls.isPresent()) {
      // Applies to https:// URLs only: Reactor Netty connects to http:// ones in plain text.
      http = http.secure(spec -> spec.sslContext(tls.get()));
    }
    // Reactor Netty's response timeout bounds the silence between two reads of an answer, not the
    // whole answer: a long poll is silent for up to its wait, a body that streams slowly but
    // steadily is never cut, one that stalls is.
    Duration silence = heartbeat.multipliedBy(2);
    this.manifests = http.responseTimeout(silence);
    this.bodies = http.responseTimeout(silence);
  }

  public void start() {
    loop =
        Mono.defer(this::pollOnce)
            .retryWhen(
                Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200))
                    .maxBackoff(Duration.ofSeconds(5))
                    .jitter(0.5)
                    .transientErrors(true))
            .repeat()
            .subscribe();
  }

  /** One long poll; on a newer export, the download, verification and offer. */
  private Mono<Void> pollOnce() {
    URI base = hosts.get(Math.floorMod(hostIndex.get(), hosts.size()));
    long served = known();
    // Until this follower's last poll was answered, ask without waiting: the answer is what tells
    // the data plane (and so the storage follower, which stands down) that the CP is back, and a
    // 304 confirms a version this DP took from storage meanwhile.
    Duration wait = answered ? heartbeat : Duration.ZERO;
    return manifests
        .headers(
            headers -> {
              if (served != SnapshotApplier.NONE) {
                headers.set(HttpHeaderNames.IF_NONE_MATCH, ConfServerProtocol.etagOf(served));
              }
            })
        .get()
        .uri(base.resolve(ConfServerProtocol.exportPath(wait)).toString())
        .responseSingle(
            (response, body) ->
                body.asByteArray()
                    .defaultIfEmpty(NO_BODY)
                    .map(
                        bytes ->
                            new Answer(
                                response.status().code(),
                                response.responseHeaders().get(HttpHeaderNames.ETAG),
                                response.responseHeaders().get(HttpHeaderNames.DATE),
                                response.responseHeaders().get(ConfServerProtocol.LINEAGE_HEADER),
                                bytes)))
        // Off the event loop: confirming or applying waits for the applier, which may be busy
        // compiling a table.
        .publishOn(Schedulers.boundedElastic())
        .flatMap(answer -> handle(base, answer))
        .doOnError(
            error -> {
              answered = false;
              dataPlane.controlPlaneUnreachable(base, error);
              hostIndex.incrementAndGet();
            });
  }

  private Mono<Void> handle(URI base, Answer answer) {
    if (answer.status() == 304 || answer.status() == 200) {
      answered = true;
      dataPlane.controlPlaneAnswered(base);
      clockOf(answer).ifPresent(theirs -> dataPlane.controlPlaneClock(base, theirs));
    }
    switch (answer.status()) {
      case 304 -> {
        long version = dataPlane.version();
        // The ETag of a 304 is the CP's own version: one behind what is served, or of another
        // lineage, is news.
        long theirs = ConfServerProtocol.versionOf(answer.etag());
        if (theirs != ConfServerProtocol.NO_VERSION) {
          dataPlane.controlPlaneAt(base, theirs, Optional.ofNullable(answer.lineage()));
        }
        if (ConfServerProtocol.etagOf(version).equals(answer.etag())) {
          dataPlane.confirm(version, Source.CONTROL_PLANE);
        }
        return Mono.empty();
      }
      case 200 -> {
        return fetchParts(base, answer);
      }
      default -> {
        // The CP's error body says why (a client certificate of another gateway group, say).
        String reason = ErrorJson.messageOf(answer.body());
        return Mono.error(
            new IOException(
                "control plane "
                    + base
                    + " answered "
                    + answer.status()
                    + (reason.isEmpty() ? "" : ": " + reason)));
      }
    }
  }

  /** Checks the manifest's signature, then downloads and verifies both parts and offers them. */
  private Mono<Void> fetchParts(URI base, Answer answer) {
    SignedExport signed;
    try {
      signed = verifier.verify(answer.body());
    } catch (SnapshotIntegrityException | SnapshotFormatException e) {
      // The ETag of a 200 is the export's version: remember it, or the poll would spin on it.
      long version = ConfServerProtocol.versionOf(answer.etag());
      refused = Math.max(refused, version);
      ReasonCode code =
          e instanceof SnapshotIntegrityException ? ReasonCode.SIGNATURE : ReasonCode.CHECKSUM;
      dataPlane.reject(
          version, Source.CONTROL_PLANE, code, "control plane " + base + ": " + e.getMessage());
      return Mono.empty();
    }
    ExportManifest manifest = signed.manifest();
    if (manifest.version() <= known()) {
      if (manifest.gatewayGroup().equals(gatewayGroup)
          && manifest.version() == dataPlane.version()) {
        // A poll sent before this DP took the same version from storage or its cache: the CP
        // holds it too, as a 304 would have said.
        dataPlane.confirm(manifest.version(), Source.CONTROL_PLANE);
      }
      return Mono.empty();
    }
    if (!manifest.gatewayGroup().equals(gatewayGroup)) {
      // A CP of another gateway group (or a misrouted answer): never serve it.
      refused = manifest.version();
      dataPlane.reject(
          manifest.version(),
          Source.CONTROL_PLANE,
          "control plane "
              + base
              + " sent an export of gateway group '"
              + manifest.gatewayGroup()
              + "'; this node serves '"
              + gatewayGroup
              + "'");
      return Mono.empty();
    }
    Map<SnapshotKind, Path> files = new EnumMap<>(SnapshotKind.class);
    return Flux.fromArray(SnapshotKind.values())
        .concatMap(kind -> download(base, manifest.part(kind), files))
        .collectList()
        .publishOn(Schedulers.boundedElastic())
        .flatMap(statuses -> applyDownloaded(base, signed, statuses, files))
        .doFinally(signal -> files.values().forEach(ControlPlaneFollower::deleteQuietly));
  }

  /**
   * Streams {@code part}'s body into a new temp file (added to {@code files}); emits the status.
   */
  private Mono<Integer> download(URI base, SnapshotManifest part, Map<SnapshotKind, Path> files) {
    URI url = base.resolve(ConfServerProtocol.partPath(part.version(), part.kind()));
    return Mono.fromCallable(
            () -> {
              PrivateFiles.createFolder(downloadDir);
              Path temp =
                  PrivateFiles.createTempFile(
                      downloadDir,
                      "export-" + part.version() + "-" + part.kind().id() + "-",
                      ".gz");
              files.put(part.kind(), temp);
              return temp;
            })
        .subscribeOn(Schedulers.boundedElastic())
        .flatMap(file -> download(url, file));
  }

  /** Streams the body at {@code url} into {@code file}; emits the response status. */
  private Mono<Integer> download(URI url, Path file) {
    return bodies
        .get()
        .uri(url.toString())
        .response(
            (response, content) -> {
              int status = response.status().code();
              if (status != 200) {
                return content.then(Mono.just(status));
              }
              return Mono.using(
                  () -> FileChannel.open(file, StandardOpenOption.WRITE),
                  channel ->
                      content
                          // On the event loop: a write to the page cache is short, and the
                          // buffer is released as soon as this returns.
                          .<Void>handle(
                              (buffer, sink) -> {
                                try {
                                  writeAll(buffer, channel);
                                } catch (IOException e) {
                                  sink.error(e);
                                }
                              })
                          .then(Mono.just(status)),
                  ControlPlaneFollower::closeQuietly);
            })
        .single();
  }

  private static void writeAll(ByteBuf buffer, FileChannel channel) throws IOException {
    while (buffer.isReadable()) {
      buffer.readBytes(channel, buffer.readableBytes());
    }
  }

  private Mono<Void> applyDownloaded(
      URI base, SignedExport signed, List<Integer> statuses, Map<SnapshotKind, Path> files) {
    long version = signed.version();
    if (statuses.contains(404)) {
      // A newer export replaced this one while we asked for it: the next poll gets it.
      return Mono.empty();
    }
    for (int status : statuses) {
      if (status != 200) {
        return Mono.error(
            new IOException(
                "control plane " + base + " answered " + status + " for export " + version));
      }
    }
    Map<SnapshotKind, VerifiedSnapshot> parts = new EnumMap<>(SnapshotKind.class);
    try {
      for (SnapshotKind kind : SnapshotKind.values()) {
        SnapshotManifest part = signed.manifest().part(kind);
        SnapshotFiles.verify(files.get(kind), part);
        parts.put(kind, new VerifiedSnapshot(part, files.get(kind)));
      }
    } catch (RuntimeException e) {
      refused = version;
      dataPlane.reject(version, Source.CONTROL_PLANE, ReasonCode.CHECKSUM, e.getMessage());
      return Mono.empty();
    }
    if (!dataPlane.offer(
        new VerifiedExport(signed, parts), Source.CONTROL_PLANE, Optional.empty())) {
      refused = version;
    }
    return Mono.empty();
  }

  /** The CP's clock as its {@code Date} header says; empty without one or when unreadable. */
  private static Optional<Instant> clockOf(Answer answer) {
    if (answer.date() == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          Instant.from(DateTimeFormatter.RFC_1123_DATE_TIME.parse(answer.date().trim())));
    } catch (DateTimeException e) {
      log.debug("unreadable Date header '{}': {}", answer.date(), e.toString());
      return Optional.empty();
    }
  }

  private long known() {
    return Math.max(dataPlane.version(), refused);
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.debug("cannot delete {}: {}", file, e.toString());
    }
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      log.debug("cannot close a download: {}", e.toString());
    }
  }

  @Override
  public void close() {
    if (loop != null) {
      loop.dispose();
    }
    connections.dispose();
  }
}
