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
import java.time.Duration;
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
 * signature, streams both part bodies to temp files, verifies them and offers the export (both
 * parts or neither) to the data plane. When the CP cannot be reached the DP keeps serving; this
 * loop retries with jittered exponential backoff (200 ms to 5 s) over the configured CP hosts and
 * follows again as soon as one answers. Each answer and each failure is reported to the {@link
 * DataPlane}, which decides what they mean.
 */
public final class ControlPlaneFollower implements Follower {

  private static final Logger log = LoggerFactory.getLogger(ControlPlaneFollower.class);
  private static final Duration LONG_POLL = Duration.ofSeconds(30);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);

  /** The CP holds a long poll silent for up to {@link #LONG_POLL}; past this it is gone. */
  private static final Duration MANIFEST_TIMEOUT = LONG_POLL.plusSeconds(10);

  /** The longest silence while a body streams in. */
  private static final Duration BODY_TIMEOUT = Duration.ofSeconds(60);

  private static final byte[] NO_BODY = new byte[0];

  /** A manifest poll's answer, read whole: a manifest is small. */
  private record Answer(int status, String etag, byte[] body) {}

  private final List<URI> hosts;
  private final String gatewayGroup;
  private final SignatureVerifier verifier;
  private final DataPlane dataPlane;
  private final Path downloadDir;
  private final ConnectionProvider connections;
  private final HttpClient manifests;
  private final HttpClient bodies;
  private final AtomicInteger hostIndex = new AtomicInteger();

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
        SignatureVerifier.notRequired());
  }

  /**
   * @param tls the context for {@code https://} hosts: the client certificate presented and the CAs
   *     trusted. Host names are verified either way (Reactor Netty's default for {@code https}).
   * @param verifier checks each export manifest's signature before any body is read
   */
  public ControlPlaneFollower(
      List<URI> hosts,
      String gatewayGroup,
      DataPlane dataPlane,
      Path downloadDir,
      Optional<SslContext> tls,
      SignatureVerifier verifier) {
    this.hosts = hosts;
    this.gatewayGroup = gatewayGroup;
    this.verifier = verifier;
    this.dataPlane = dataPlane;
    this.downloadDir = downloadDir;
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
    this.manifests = http.responseTimeout(MANIFEST_TIMEOUT);
    this.bodies = http.responseTimeout(BODY_TIMEOUT);
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

  /** One long poll; on a newer manifest, the download, verification and offer. */
  private Mono<Void> pollOnce() {
    URI base = hosts.get(Math.floorMod(hostIndex.get(), hosts.size()));
    long served = known();
    // Until this follower's last poll was answered, ask without waiting: the answer is what tells
    // the data plane (and so the storage followers, which stand down) that the CP is back, and a
    // 304 confirms a version this DP took from storage meanwhile.
    Duration wait = answered ? LONG_POLL : Duration.ZERO;
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
    switch (answer.status()) {
      case 304 -> {
        answered = true;
        dataPlane.controlPlaneAnswered(base);
        long version = dataPlane.version();
        if (ConfServerProtocol.etagOf(version).equals(answer.etag())) {
          dataPlane.confirm(version, Source.CONTROL_PLANE);
        }
        return Mono.empty();
      }
      case 200 -> {
        answered = true;
        dataPlane.controlPlaneAnswered(base);
        SignedExport signed;
        try {
          // The signature is checked before any body is read.
          signed = verifier.verify(answer.body());
        } catch (SnapshotFormatException | SnapshotIntegrityException e) {
          refused = Math.max(refused, ConfServerProtocol.versionOf(answer.etag()));
          dataPlane.reject(
              ConfServerProtocol.versionOf(answer.etag()),
              Source.CONTROL_PLANE,
              "control plane " + base + ": " + e.getMessage());
          return Mono.empty();
        }
        return fetchExport(base, signed);
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

  private Mono<Void> fetchExport(URI base, SignedExport signed) {
    ExportManifest manifest = signed.manifest();
    boolean ours = manifest.gatewayGroup().equals(gatewayGroup);
    if (manifest.version() <= known()) {
      if (ours && manifest.version() == dataPlane.version()) {
        // A poll sent before this DP took the same version from storage or its cache: the CP
        // holds it too, as a 304 would have said.
        dataPlane.confirm(manifest.version(), Source.CONTROL_PLANE);
      }
      return Mono.empty();
    }
    if (!ours) {
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
        .concatMap(
            kind ->
                Mono.fromCallable(
                        () -> {
                          PrivateFiles.createFolder(downloadDir);
                          Path temp =
                              PrivateFiles.createTempFile(
                                  downloadDir, "export-" + kind.id() + "-", ".ndjson.gz");
                          files.put(kind, temp);
                          return temp;
                        })
                    .flatMap(
                        temp -> {
                          URI url =
                              base.resolve(ConfServerProtocol.partPath(manifest.version(), kind));
                          return download(url, temp)
                              .flatMap(
                                  status ->
                                      status == 200 || status == 404
                                          ? Mono.just(status)
                                          : Mono.error(
                                              new IOException(
                                                  "control plane answered "
                                                      + status
                                                      + " for "
                                                      + url)));
                        }))
        // Every part must arrive; a 404 means a newer export replaced this one meanwhile.
        .all(status -> status == 200)
        .publishOn(Schedulers.boundedElastic())
        .flatMap(complete -> complete ? applyDownloaded(signed, files) : Mono.empty())
        .doFinally(signal -> files.values().forEach(ControlPlaneFollower::deleteQuietly));
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

  private Mono<Void> applyDownloaded(SignedExport signed, Map<SnapshotKind, Path> files) {
    ExportManifest manifest = signed.manifest();
    Map<SnapshotKind, VerifiedSnapshot> parts = new EnumMap<>(SnapshotKind.class);
    try {
      for (SnapshotKind kind : SnapshotKind.values()) {
        SnapshotFiles.verify(files.get(kind), manifest.part(kind));
        parts.put(kind, new VerifiedSnapshot(manifest.part(kind), files.get(kind)));
      }
    } catch (RuntimeException e) {
      refused = manifest.version();
      dataPlane.reject(manifest.version(), Source.CONTROL_PLANE, e.getMessage());
      return Mono.empty();
    }
    if (!dataPlane.offer(
        new VerifiedExport(signed, parts), Source.CONTROL_PLANE, Optional.empty())) {
      refused = manifest.version();
    }
    return Mono.empty();
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
