package io.ballast.service;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigNode;
import io.ballast.controlplane.ConfServerApi;
import io.ballast.controlplane.LineageCheck;
import io.ballast.controlplane.LineageChoice;
import io.ballast.controlplane.SnapshotBuilder;
import io.ballast.controlplane.StorageExporter;
import io.ballast.controlplane.StoreSealer;
import io.ballast.controlplane.admin.AdminApi;
import io.ballast.controlplane.store.ConfigStore;
import io.ballast.dataplane.BucketWatch;
import io.ballast.dataplane.DataPlane;
import io.ballast.dataplane.Deployment;
import io.ballast.dataplane.Followers;
import io.ballast.dataplane.LocalCache;
import io.ballast.dataplane.ReasonCode;
import io.ballast.dataplane.SnapshotApplier;
import io.ballast.dataplane.StandaloneFile;
import io.ballast.dataplane.StorageFollower;
import io.ballast.gateway.plugin.PluginRegistry;
import io.ballast.gateway.plugin.PrometheusMetrics;
import io.ballast.gateway.proxy.ProxyOptions;
import io.ballast.gateway.proxy.ProxyServer;
import io.ballast.gateway.tls.ChannelTls;
import io.ballast.gateway.tls.ChannelTls.PemFile;
import io.ballast.resource.InvalidResourceException;
import io.ballast.resource.Json;
import io.ballast.seal.Sealing;
import io.ballast.service.config.ChannelCerts;
import io.ballast.service.config.ConfServerConfig;
import io.ballast.service.config.Listen;
import io.ballast.service.config.NodeConfig;
import io.ballast.service.config.NodeConfig.ConfigProvider;
import io.ballast.service.config.NodeConfig.Role;
import io.ballast.service.config.SslConfig;
import io.ballast.snapshot.ExportFetcher;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.ExportPublisher;
import io.ballast.snapshot.FallbackCpConfig;
import io.ballast.snapshot.ShrinkGuard;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SnapshotEntry;
import io.ballast.snapshot.SnapshotKind;
import io.ballast.snapshot.SnapshotSigner;
import io.ballast.snapshot.StorageBlock;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.netty.DisposableServer;

/**
 * One running Ballast node: assembles the parts its role needs from {@link NodeConfig}, starts
 * them, and stops them in reverse order. Everything here is wiring; behaviour lives in the parts.
 */
public final class Node implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Node.class);

  /** Top-level sections of the CP's file that make up the instance snapshot. */
  private static final List<String> INSTANCE_SECTIONS =
      List.of("plugins", "plugin_attr", "discovery", "stream_plugins");

  /** How often the channel's certificate files are looked at for a change. */
  private static final Duration CERTIFICATE_POLL = Duration.ofSeconds(1);

  /** How often the standalone file is looked at when no watch event arrives. */
  private static final Duration STANDALONE_POLL = Duration.ofSeconds(1);

  private final NodeConfig config;
  private final LineageChoice lineageChoice;
  private final Clock clock = clock(System.getProperty(CLOCK_OFFSET));
  private final Deque<AutoCloseable> started = new ArrayDeque<>();
  private ConfigStore store;
  private SnapshotBuilder builder;
  private StorageExporter exporter;
  private LineageCheck lineageCheck;
  private DataPlane dataPlane;
  private NodeStorage storage;
  private BucketWatch bucketWatch;

  /** The TLS listeners' bound addresses, for /status. */
  private final List<String> tlsListening = new ArrayList<>();

  /**
   * A test aid: {@code -Dballast.clock_offset=PT2H} (an ISO-8601 duration, negative allowed) moves
   * this node's clock, so that a test can run nodes whose clocks disagree (clock skew, expiry) on
   * one host. Never set in production.
   */
  static final String CLOCK_OFFSET = "ballast.clock_offset";

  /** The system clock, moved by {@code offset} (an ISO-8601 duration) when one is given. */
  static Clock clock(String offset) {
    if (offset == null || offset.isBlank()) {
      return Clock.systemUTC();
    }
    try {
      Duration by = Duration.parse(offset.trim());
      log.warn("{}={}: this node's clock is moved by {} (a test aid)", CLOCK_OFFSET, offset, by);
      return Clock.offset(Clock.systemUTC(), by);
    } catch (java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException(
          "system property "
              + CLOCK_OFFSET
              + " '"
              + offset
              + "' is not an ISO-8601 duration such as PT2H or -PT10M");
    }
  }

  private Node(NodeConfig config, LineageChoice lineageChoice) {
    this.config = config;
    this.lineageChoice = lineageChoice;
  }

  public static Node start(NodeConfig config, ConfigNode root) {
    return start(config, root, LineageChoice.UNDECIDED);
  }

  /**
   * @param lineageChoice the operator's {@code --lineage}, for a CP whose store and storage belong
   *     to different lineages
   */
  public static Node start(NodeConfig config, ConfigNode root, LineageChoice lineageChoice) {
    Node node = new Node(config, lineageChoice);
    try {
      node.startParts(root);
    } catch (RuntimeException e) {
      node.close();
      throw e;
    }
    log.info("ballast {} node {} started: {}", config.role().id(), config.nodeId(), config);
    return node;
  }

  private void startParts(ConfigNode root) {
    Optional<FallbackCpConfig> fallback = config.fallback();
    if (fallback.isPresent()) {
      storage = NodeStorage.open(fallback.get());
      started.push(storage);
      if (config.holdsConfiguration()) {
        storage.createOwnFolders(config.dataDir());
        storage.requireBuckets();
      }
    }
    String prefix = fallback.map(FallbackCpConfig::prefix).orElse("");
    String group = fallback.map(FallbackCpConfig::gatewayGroup).orElse("default");
    Path data = config.dataDir();
    Sealing sealing = config.dataEncryption().sealing();

    ExportLayout layout = new ExportLayout(prefix, group);
    Duration expireAfter =
        fallback
            .map(FallbackCpConfig::expireAfter)
            .orElse(FallbackCpConfig.MIN_DEFAULT_EXPIRE_AFTER);
    SnapshotSigner signer = null;

    if (config.holdsConfiguration()) {
      store = openStore(data);
      started.push(store);
      resealStore(sealing);
      signer = config.snapshotSigning().signer(data);
      if (storage != null) {
        checkLineage(storage.backends(), fallback.get(), trustedByControlPlane(signer), sealing);
      }
      builder =
          new SnapshotBuilder(
              store,
              data.resolve("cp-snapshots"),
              layout,
              config.nodeId(),
              store::lineage,
              signer,
              expireAfter,
              clock);
      started.push(builder);
      builder.guardShrinks(config.shrinkGuard());
      builder.start(instanceSettings(root));
      config.admin().warnings().forEach(warning -> log.warn("{}", warning));
      serve(
          "deployment.admin.admin_listen",
          config.admin().listen(),
          AdminApi.routes(store, config.admin().access(), sealing));
      if (config.role() == Role.CONTROL_PLANE) {
        serveConfServer(group);
      }
      if (storage != null) {
        FallbackCpConfig settings = fallback.get();
        // Every backend of the list (redundant storage), each named by its key path.
        List<StorageExporter.Target> targets = new ArrayList<>();
        for (NodeStorage.Backend backend : storage.backends()) {
          targets.add(
              new StorageExporter.Target(
                  backend.block().path(),
                  new ExportPublisher(
                      backend.bucket(SnapshotKind.RESOURCES),
                      backend.bucket(SnapshotKind.INSTANCE),
                      layout,
                      settings.retention(),
                      signer,
                      expireAfter,
                      clock)));
        }
        exporter =
            new StorageExporter(
                builder,
                targets,
                settings.cronSpec(),
                settings.exportDebounce(),
                clock,
                lineageCheck::replaceableLineage);
        started.push(exporter);
        lineageCheck.gate(
            new LineageCheck.ExportGate() {
              @Override
              public void pause(String reason) {
                exporter.pause(reason);
              }

              @Override
              public void resume() {
                exporter.resume();
              }
            });
        exporter.start();
      }
    }

    if (config.servesTraffic()) {
      // A traditional node trusts its own CP's key beside those configured.
      SignatureVerifier verifier =
          config
              .snapshotSigning()
              .verifier(Optional.ofNullable(signer).map(SnapshotSigner::publicKey));
      LocalCache cache = new LocalCache(data.resolve("dp-cache"), verifier);
      PrometheusMetrics metrics = new PrometheusMetrics(config.nodeId());
      startPrometheusExporter(root, metrics);
      SnapshotApplier applier =
          new SnapshotApplier(cache, clock, PluginRegistry.standard(metrics), sealing);
      // This node's own CP already held what its guard refuses, and let through what an operator
      // confirmed: judging its exports twice would hold the confirmed ones.
      applier.guardShrinks(
          config.role() == Role.TRADITIONAL ? ShrinkGuard.OFF : config.shrinkGuard());
      dataPlane =
          new DataPlane(
              deployment(layout, verifier),
              applier,
              cache,
              new Followers(
                  data.resolve("dp-downloads"),
                  clock,
                  controlPlaneTls(group),
                  new Followers.Timings(
                      config.heartbeat().interval(), storageDeadline(config.fallback())),
                  verifier),
              clock);
      started.push(dataPlane);
      metrics.include(dataPlane::prometheus);
      // The cache is served and the listeners bound before the sources start: a restart with the
      // CP and storage down answers from the cache without waiting for their clients.
      dataPlane.serveCache();
      ProxyServer proxy =
          new ProxyServer(
              dataPlane::table,
              ProxyOptions.defaults().withEventLoops(config.workerProcesses()),
              metrics::countRequest);
      started.push(proxy::dispose);
      for (Listen listen : config.proxyListen()) {
        try {
          DisposableServer server =
              proxy.start(listen.ip(), listen.port()).block(Duration.ofSeconds(10));
          started.push(server::disposeNow);
        } catch (RuntimeException e) {
          throw ListenFailure.of("apisix.node_listen", listen, e);
        }
      }
      for (SslConfig.TlsListen listen : config.ssl().listen()) {
        try {
          DisposableServer server =
              proxy
                  .startTls(listen.ip(), listen.port(), listen.http2(), config.ssl().fallbackSni())
                  .block(Duration.ofSeconds(10));
          started.push(server::disposeNow);
          tlsListening.add(listen.ip() + ":" + server.port());
          log.info("apisix.ssl.listen {} listening on {}", listen, server.address());
        } catch (RuntimeException e) {
          throw ListenFailure.of("apisix.ssl.listen", listen.ip() + ":" + listen.port(), e);
        }
      }
      dataPlane.startSources();
      if (storage != null && !config.holdsConfiguration()) {
        watchBuckets(fallback.get());
      }
    }

    serve("apisix.status", config.statusListen(), StatusApi.routes(this::status, this::ready));
  }

  /**
   * Reconciles the store with storage's newest export before anything is built from it (see {@link
   * LineageCheck}); what it imports is re-sealed with this node's keyring.
   */
  private void checkLineage(
      List<NodeStorage.Backend> backends,
      FallbackCpConfig fallback,
      List<PublicKey> trustedKeys,
      Sealing sealing) {
    lineageCheck =
        LineageStart.start(
            store,
            backends,
            fallback,
            trustedKeys,
            lineageChoice,
            config.dataDir(),
            () -> resealStore(sealing),
            clock);
    started.push(lineageCheck);
  }

  /**
   * The keys an export in storage must be signed with for this CP to import it: its own, and those
   * its data planes trust (a key rotated out, say).
   */
  private List<PublicKey> trustedByControlPlane(SnapshotSigner signer) {
    List<PublicKey> keys = new ArrayList<>();
    keys.add(signer.publicKey());
    keys.addAll(config.snapshotSigning().trustedKeys());
    return keys;
  }

  /**
   * Seals what the store holds in plain text (written before sealing was on) or under an older
   * keyring entry, before anything is built from it; a value no entry opens stops the start.
   */
  private void resealStore(Sealing sealing) {
    try {
      StoreSealer.reseal(store, sealing);
    } catch (InvalidResourceException e) {
      throw new ConfigException(
          config.file(),
          "apisix.data_encryption.keyring",
          "cannot open the config store in "
              + config.dataDir().resolve("store")
              + ": "
              + e.getMessage());
    }
  }

  /**
   * The prometheus plugin's scrape endpoint, on {@code plugin_attr.prometheus.export_addr}. Unlike
   * APISIX it is not opened on 127.0.0.1:9091 unless asked for: several nodes on one host would
   * fight over the port, and an endpoint nobody configured should not listen.
   */
  private void startPrometheusExporter(ConfigNode root, PrometheusMetrics metrics) {
    Optional<ConfigNode> address =
        root.childOrEmpty("plugin_attr").childOrEmpty("prometheus").child("export_addr");
    if (address.isEmpty()) {
      return;
    }
    address.get().rejectUnknownKeys(Set.of("ip", "port"));
    String ip = address.get().string("ip", PrometheusMetrics.DEFAULT_HOST);
    int port = address.get().integer("port", PrometheusMetrics.DEFAULT_PORT);
    try {
      InetSocketAddress bound = metrics.start(ip, port);
      started.push(metrics::stop);
      log.info(
          "prometheus metrics on http://{}:{}{}",
          ip,
          bound.getPort(),
          PrometheusMetrics.EXPORT_PATH);
    } catch (RuntimeException e) {
      throw ListenFailure.of("plugin_attr.prometheus.export_addr", ip + ":" + port, e);
    }
  }

  /** The store lives in {@code ballast.data_dir}: a failure to open it names that key. */
  private static ConfigStore openStore(Path data) {
    try {
      return ConfigStore.open(data.resolve("store"));
    } catch (UncheckedIOException e) {
      throw new IllegalStateException(
          "ballast.data_dir " + data + ": " + describe(e.getCause()), e);
    }
  }

  /** The JDK leaves the reason out of the message of its commonest file errors. */
  private static String describe(IOException error) {
    if (error instanceof AccessDeniedException) {
      return "permission denied: " + error.getMessage();
    }
    if (error instanceof NoSuchFileException) {
      return "no such file or folder: " + error.getMessage();
    }
    if (error instanceof FileSystemException fs && fs.getReason() == null) {
      return "cannot create or open "
          + fs.getFile()
          + " ("
          + error.getClass().getSimpleName()
          + ")";
    }
    return error.getMessage();
  }

  /**
   * A data plane whose bucket is missing starts, but is not ready until the bucket appears; it says
   * which one is missing (a CP refuses to start instead: {@link NodeStorage#requireBuckets}).
   */
  private void watchBuckets(FallbackCpConfig fallback) {
    bucketWatch =
        new BucketWatch(
            storage.buckets(),
            fallback.pollInterval(),
            new BucketWatch.Listener() {
              @Override
              public void missing(String detail) {
                dataPlane.storageProblem(
                    DataPlane.BUCKET_WATCH, ReasonCode.STORAGE_MISSING_BUCKET, detail);
              }

              @Override
              public void found() {
                dataPlane.storageRecovered(DataPlane.BUCKET_WATCH);
              }
            });
    started.push(bucketWatch);
    bucketWatch.start();
  }

  /**
   * How long one storage poll may take: the storage block's {@code timeout} (every backend reads
   * it, default 30 s).
   */
  private static Duration storageDeadline(Optional<FallbackCpConfig> fallback) {
    return fallback
        .map(fb -> fb.block().duration("timeout", StorageFollower.DEFAULT_DEADLINE))
        .orElse(StorageFollower.DEFAULT_DEADLINE);
  }

  /** Where this node's data plane takes its configuration from, as its file says. */
  private Deployment deployment(ExportLayout layout, SignatureVerifier verifier) {
    if (config.role() == Role.TRADITIONAL) {
      return new Deployment.Traditional(builder::exports);
    }
    if (config.standalone().isPresent()) {
      return new Deployment.File(
          config.standalone().get(),
          config.configProvider() == ConfigProvider.JSON
              ? StandaloneFile.Format.JSON
              : StandaloneFile.Format.YAML,
          System::getenv,
          STANDALONE_POLL,
          config.nodeId());
    }
    Optional<Deployment.Storage> polled = Optional.empty();
    if (storage != null) {
      // One fetcher, and so one follower, per backend of the list (redundant storage).
      List<ExportFetcher> fetchers = new ArrayList<>();
      for (NodeStorage.Backend backend : storage.backends()) {
        fetchers.add(
            new ExportFetcher(
                backend.bucket(SnapshotKind.RESOURCES),
                backend.bucket(SnapshotKind.INSTANCE),
                layout,
                verifier));
      }
      polled =
          Optional.of(
              new Deployment.Storage(fetchers, config.fallback().orElseThrow().pollInterval()));
    }
    if (config.configProvider() == ConfigProvider.CONTROL_PLANE) {
      return new Deployment.ControlPlane(config.controlPlaneHosts(), layout.gatewayGroup(), polled);
    }
    // NodeConfig gives yaml without fallback_cp a standalone file: this is API7's storage-only.
    return new Deployment.StorageOnly(polled.orElseThrow());
  }

  private void serve(String what, Listen listen, RouterFunction<ServerResponse> routes) {
    serve(what, listen, routes, Optional.empty());
  }

  private void serve(
      String what, Listen listen, RouterFunction<ServerResponse> routes, Optional<SslContext> tls) {
    DisposableServer server = HttpEndpoints.serve(what, listen, routes, tls);
    started.push(server::disposeNow);
    log.info("{} listening on {}{}", what, server.address(), tls.isPresent() ? " (TLS)" : "");
  }

  /**
   * The conf server, over TLS with {@code cert}/{@code cert_key} and asking for client certificates
   * with {@code client_ca_cert}. Plain HTTP beyond loopback is allowed (APISIX requires TLS here)
   * but said loudly: whoever reaches it reads every route and consumer secret.
   */
  private void serveConfServer(String group) {
    String key = "deployment.role_control_plane.conf_server";
    ConfServerConfig confServer = config.confServer();
    Optional<SslContext> tls = Optional.empty();
    ConfServerApi api = new ConfServerApi(builder, group, chain -> true, clock);
    if (confServer.tls()) {
      ChannelTls channel =
          channelTls(
              () ->
                  ChannelTls.server(
                      new PemFile(key + ".cert", confServer.cert().orElseThrow()),
                      new PemFile(key + ".cert_key", confServer.certKey().orElseThrow()),
                      confServer
                          .clientCaCert()
                          .map(path -> new PemFile(key + ".client_ca_cert", path))));
      tls = Optional.of(channel.context());
      api = new ConfServerApi(builder, group, channel::trustsClient, clock);
    } else if (!confServer.loopbackOnly()) {
      log.warn(
          "{}.listen {} is plain HTTP on a non-loopback address: anyone who reaches it can read"
              + " every route and consumer secret; set {}.cert, cert_key and client_ca_cert",
          key,
          confServer.listen(),
          key);
    }
    serve(key + ".listen", confServer.listen(), api.routes(), tls);
  }

  /**
   * The TLS context for {@code https://} control plane hosts, from {@code deployment.certs}; none
   * when every host is {@code http://}. A client certificate whose CN is not this node's gateway
   * group is sure to be refused: said at start.
   */
  private Optional<SslContext> controlPlaneTls(String group) {
    boolean https =
        config.controlPlaneHosts().stream().anyMatch(uri -> "https".equals(uri.getScheme()));
    if (!https) {
      return Optional.empty();
    }
    ChannelCerts certs = config.certs();
    ChannelTls channel =
        channelTls(
            () ->
                ChannelTls.client(
                    certs.cert().map(path -> new PemFile("deployment.certs.cert", path)),
                    certs.certKey().map(path -> new PemFile("deployment.certs.cert_key", path)),
                    certs
                        .trustedCaCert()
                        .map(path -> new PemFile("deployment.certs.trusted_ca_cert", path))));
    channel
        .ownCertificate()
        .flatMap(ChannelTls::gatewayGroupOf)
        .filter(named -> !named.equals(group))
        .ifPresent(
            named ->
                log.warn(
                    "deployment.certs.cert names gateway group '{}' (subject CN) but this node"
                        + " serves '{}': its control plane will answer 403",
                    named,
                    group));
    return Optional.of(channel.context());
  }

  /** Loads the channel's files, and watches them until the node stops. */
  private ChannelTls channelTls(Supplier<ChannelTls> load) {
    ChannelTls channel;
    try {
      channel = load.get();
    } catch (IllegalArgumentException e) {
      // The message names the key and the PEM file (never a byte of a key).
      throw new ConfigException(config.file(), "", e.getMessage());
    }
    started.push(channel);
    channel.watch(CERTIFICATE_POLL);
    return channel;
  }

  /** Node-level settings of the CP's own file that data planes receive as the instance snapshot. */
  private static List<SnapshotEntry> instanceSettings(ConfigNode root) {
    List<SnapshotEntry> entries = new ArrayList<>();
    INSTANCE_SECTIONS.stream()
        .sorted()
        .forEach(
            section ->
                root.raw(section)
                    .ifPresent(
                        value ->
                            entries.add(
                                new SnapshotEntry(
                                    "settings", section, Json.mapper().valueToTree(value)))));
    return entries;
  }

  boolean ready() {
    if (dataPlane != null) {
      return dataPlane.serving() && !everyBackendMissesABucket();
    }
    return builder != null && builder.current().isPresent();
  }

  /**
   * Whether each storage block misses a bucket: a data plane is not ready then, as its storage path
   * means nothing. With redundant storage one block missing a bucket is one backend down.
   */
  private boolean everyBackendMissesABucket() {
    if (bucketWatch == null || !bucketWatch.anyMissing()) {
      return false;
    }
    Set<String> blocks = new HashSet<>();
    for (String bucketKey : bucketWatch.missingNow().keySet()) {
      blocks.add(bucketKey.substring(0, bucketKey.lastIndexOf('.')));
    }
    return blocks.size() >= storage.backends().size();
  }

  Map<String, Object> status() {
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("role", config.role().id());
    status.put("node_id", config.nodeId());
    status.put("ready", ready());
    if (!tlsListening.isEmpty()) {
      status.put("ssl_listen", List.copyOf(tlsListening));
    }
    if (store != null) {
      status.put("store_revision", store.revision());
    }
    if (builder != null) {
      // The shrink guard's hold: exports.held names a held export and how to confirm it.
      status.put("exports", builder.shrinkHold().status());
    }
    if (lineageCheck != null) {
      status.put("lineage", lineageCheck.status());
    }
    if (dataPlane != null) {
      status.putAll(dataPlane.status());
    }
    config
        .fallback()
        .ifPresent(
            fb -> {
              Map<String, Object> storage = new LinkedHashMap<>();
              // API7's single block names one backend; a list (redundant storage) names each.
              storage.put(
                  "backend",
                  fb.redundant()
                      ? fb.storages().stream().map(StorageBlock::backend).toList()
                      : fb.backend());
              if (dataPlane != null) {
                storage.putAll(dataPlane.storageStatus());
              }
              if (exporter != null) {
                storage.put("export", exporter.status());
              }
              if (bucketWatch != null && bucketWatch.anyMissing()) {
                storage.put("missing_buckets", bucketWatch.missingNow());
              }
              status.put("storage", storage);
            });
    return status;
  }

  @Override
  public void close() {
    while (!started.isEmpty()) {
      try {
        started.pop().close();
      } catch (Exception e) {
        log.warn("error while stopping: {}", e.toString());
      }
    }
  }
}
