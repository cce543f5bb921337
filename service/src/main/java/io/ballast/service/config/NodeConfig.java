package io.ballast.service.config;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigNode;
import io.ballast.snapshot.FallbackCpConfig;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Everything a node reads from {@code conf/config.yaml}, under the keys and defaults APISIX uses. A
 * key APISIX does not know either is refused with its key path ({@link ConfigKeys}); APISIX's
 * settings that Ballast does not implement (most of nginx_config, plugins, …) are accepted so that
 * users can bring their files, and reported at start ({@link IgnoredKeys}). A wrong value is
 * refused with its key path.
 */
public record NodeConfig(
    String file,
    Role role,
    List<Listen> proxyListen,
    int workerProcesses,
    SslConfig ssl,
    Listen statusListen,
    AdminConfig admin,
    Listen confServerListen,
    ConfigProvider configProvider,
    List<URI> controlPlaneHosts,
    FallbackCpConfig fallbackCp,
    Path standaloneFile,
    Path dataDir,
    String nodeId,
    ConfServerConfig confServer,
    ChannelCerts certs,
    DataEncryption dataEncryption,
    SnapshotSigningConfig snapshotSigning) {

  private static final Set<String> TLS_LISTEN_KEYS =
      Set.of("ip", "port", "enable_http2", "enable_http3");

  // Each is a thread; more than this many per process only adds context switches.
  private static final int MAX_WORKER_PROCESSES = 1024;

  public enum Role {
    TRADITIONAL,
    CONTROL_PLANE,
    DATA_PLANE;

    public String id() {
      return name().toLowerCase();
    }

    boolean servesTraffic() {
      return this != CONTROL_PLANE;
    }

    boolean holdsConfiguration() {
      return this != DATA_PLANE;
    }
  }

  /** Where a data plane takes its configuration from. */
  public enum ConfigProvider {
    CONTROL_PLANE,
    /**
     * APISIX/API7 standalone: with {@code fallback_cp}, the storage snapshots (API7); without it,
     * APISIX's {@code conf/apisix.yaml}.
     */
    YAML,
    /** APISIX's {@code conf/apisix.json}. */
    JSON
  }

  public boolean servesTraffic() {
    return role.servesTraffic();
  }

  public boolean holdsConfiguration() {
    return role.holdsConfiguration();
  }

  /**
   * The APISIX standalone file a data plane serves ({@code apisix.yaml} or {@code apisix.json}),
   * when {@code config_provider} is yaml or json and there is no {@code fallback_cp}.
   */
  public Optional<Path> standalone() {
    return Optional.ofNullable(standaloneFile);
  }

  /** The {@code fallback_cp} settings, when the file has them. */
  public Optional<FallbackCpConfig> fallback() {
    return Optional.ofNullable(fallbackCp);
  }

  public static NodeConfig parse(ConfigNode root, String hostName) {
    ConfigKeys.rejectUnknown(root);
    ConfigNode apisix = root.childOrEmpty("apisix");
    ConfigNode deployment = root.childOrEmpty("deployment");
    ConfigNode ballast = root.childOrEmpty("ballast");
    ballast.rejectUnknownKeys(Set.of("data_dir", "node_id", "standalone_file", "snapshot_signing"));

    String roleText = deployment.string("role", "traditional");
    Role role =
        switch (roleText) {
          case "traditional" -> Role.TRADITIONAL;
          case "control_plane" -> Role.CONTROL_PLANE;
          case "data_plane" -> Role.DATA_PLANE;
          default ->
              throw deployment.error(
                  "role",
                  "must be traditional, control_plane or data_plane, not '" + roleText + "'");
        };

    List<Listen> proxyListen = nodeListen(apisix);
    int workerProcesses = workerProcesses(root.childOrEmpty("nginx_config"));
    SslConfig ssl = ssl(apisix);
    Listen status = listenBlock(apisix, "status", new Listen("127.0.0.1", 7085));

    AdminConfig admin =
        AdminConfig.parse(deployment.childOrEmpty("admin"), role.holdsConfiguration());

    ConfServerConfig confServer =
        ConfServerConfig.parse(
            deployment.childOrEmpty("role_control_plane").childOrEmpty("conf_server"));
    ChannelCerts certs = ChannelCerts.parse(deployment.childOrEmpty("certs"));

    ConfigNode dataPlane = deployment.childOrEmpty("role_data_plane");
    String providerText = dataPlane.string("config_provider", "control_plane");
    ConfigProvider provider =
        switch (providerText) {
          case "control_plane" -> ConfigProvider.CONTROL_PLANE;
          case "yaml" -> ConfigProvider.YAML;
          case "json" -> ConfigProvider.JSON;
          default ->
              throw dataPlane.error(
                  "config_provider",
                  "must be control_plane, yaml or json, not '" + providerText + "'");
        };

    FallbackCpConfig fallback = FallbackCpConfig.find(root).orElse(null);
    List<URI> cpHosts = List.of();
    Path standaloneFile = null;
    if (role == Role.DATA_PLANE) {
      if (provider == ConfigProvider.CONTROL_PLANE) {
        cpHosts = controlPlaneHosts(deployment, dataPlane);
      } else if (provider == ConfigProvider.JSON && fallback != null) {
        throw dataPlane.error(
            "config_provider",
            "'json' reads conf/apisix.json and does not go with a fallback_cp block; API7's"
                + " storage-only mode is config_provider yaml with fallback_cp");
      } else if (fallback == null) {
        standaloneFile =
            standaloneFile(
                root, ballast, provider == ConfigProvider.JSON ? "apisix.json" : "apisix.yaml");
      }
    }

    DataEncryption dataEncryption = DataEncryption.parse(apisix);
    dataEncryption.requireNotPublic(
        apisix, DataEncryption.exposure(role, confServer.listen(), admin, fallback));
    Path dataDir = Path.of(ballast.string("data_dir", "data")).toAbsolutePath().normalize();
    String nodeId = ballast.string("node_id", hostName + "-" + ProcessHandle.current().pid());
    return new NodeConfig(
        root.file(),
        role,
        proxyListen,
        workerProcesses,
        ssl,
        status,
        admin,
        confServer.listen(),
        provider,
        cpHosts,
        fallback,
        standaloneFile,
        dataDir,
        nodeId,
        confServer,
        certs,
        dataEncryption,
        SnapshotSigningConfig.parse(ballast.childOrEmpty("snapshot_signing")));
  }

  /**
   * APISIX reads {@code <prefix>/conf/apisix.yaml}, beside its {@code conf/config.yaml}: the
   * default is the file named {@code defaultName} in the node file's folder. {@code
   * ballast.standalone_file} overrides it; a relative path is taken from that folder too.
   */
  private static Path standaloneFile(ConfigNode root, ConfigNode ballast, String defaultName) {
    Path folder = Path.of(root.file()).toAbsolutePath().normalize().getParent();
    String given = ballast.string("standalone_file", defaultName);
    if (given.isBlank()) {
      throw ballast.error("standalone_file", "must not be empty");
    }
    return folder.resolve(given).normalize();
  }

  /**
   * {@code nginx_config.worker_processes}: {@code auto} (the default) or a number. Ballast runs one
   * process; the number is how many event loops its proxy runs, and {@code auto} is one per CPU, as
   * with nginx. The other nginx settings are nginx's own and are ignored.
   */
  private static int workerProcesses(ConfigNode nginx) {
    String text = nginx.string("worker_processes", "auto").trim();
    if (text.equals("auto")) {
      return Runtime.getRuntime().availableProcessors();
    }
    try {
      int count = Integer.parseInt(text);
      if (count >= 1 && count <= MAX_WORKER_PROCESSES) {
        return count;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw nginx.error(
        "worker_processes",
        "must be auto or a number from 1 to " + MAX_WORKER_PROCESSES + ", not '" + text + "'");
  }

  /** {@code apisix.node_listen}: a port, a list of ports, or a list of {ip, port}. */
  private static List<Listen> nodeListen(ConfigNode apisix) {
    List<Object> entries = apisix.list("node_listen");
    if (entries.isEmpty()) {
      return List.of(new Listen("0.0.0.0", 9080));
    }
    List<Listen> result = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      Object entry = entries.get(i);
      if (entry instanceof Map<?, ?> map) {
        apisix.rejectUnknownKeys("node_listen[" + i + "]", map, Set.of("ip", "port"));
        Object ip = map.get("ip");
        result.add(
            new Listen(
                ip == null ? "0.0.0.0" : ip.toString(),
                port(apisix, "node_listen", map.get("port"))));
      } else {
        result.add(new Listen("0.0.0.0", port(apisix, "node_listen", entry)));
      }
    }
    return List.copyOf(result);
  }

  /**
   * {@code apisix.ssl}: {@code enable} (default true), {@code listen} as a port, a list of ports or
   * a list of {@code {ip, port, enable_http2}}, {@code fallback_sni}; and {@code
   * apisix.enable_http2} (default true), which an entry's older {@code enable_http2} overrides.
   * {@code ssl_protocols} must name what Ballast serves; the block's other APISIX keys
   * (ssl_ciphers, …) are accepted and reported by {@link IgnoredKeys}.
   */
  private static SslConfig ssl(ConfigNode apisix) {
    ConfigNode ssl = apisix.childOrEmpty("ssl");
    checkProtocols(ssl);
    boolean http2 = apisix.bool("enable_http2", true);
    String fallbackSni = null;
    Optional<String> fallback = ssl.string("fallback_sni");
    if (fallback.isPresent()) {
      fallbackSni = fallback.get().trim();
      if (fallbackSni.isEmpty() || fallbackSni.contains("*") || fallbackSni.contains(" ")) {
        throw ssl.error("fallback_sni", "must be a host name, not '" + fallback.get() + "'");
      }
    }
    // APISIX listens on 9443 without this key; Ballast opens no TLS port unless asked (see
    // SslConfig).
    if (!ssl.bool("enable", true) || !ssl.has("listen")) {
      return new SslConfig(List.of(), fallbackSni);
    }
    List<Object> entries = ssl.list("listen");
    if (entries.isEmpty()) {
      throw ssl.error("listen", "must list at least one port or {ip, port}");
    }
    List<SslConfig.TlsListen> listen = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      String key = "listen[" + i + "]";
      if (entries.get(i) instanceof Map<?, ?> map) {
        ssl.rejectUnknownKeys(key, map, TLS_LISTEN_KEYS);
        if (Boolean.TRUE.equals(map.get("enable_http3"))) {
          throw ssl.error(key + ".enable_http3", "Ballast does not serve HTTP/3; leave it out");
        }
        Object ip = map.get("ip");
        Object entryHttp2 = map.get("enable_http2");
        if (entryHttp2 != null && !(entryHttp2 instanceof Boolean)) {
          throw ssl.error(key + ".enable_http2", "must be true or false, not '" + entryHttp2 + "'");
        }
        listen.add(
            new SslConfig.TlsListen(
                ip == null ? "0.0.0.0" : ip.toString(),
                port(ssl, key + ".port", map.get("port")),
                entryHttp2 == null ? http2 : (Boolean) entryHttp2));
      } else {
        listen.add(new SslConfig.TlsListen("0.0.0.0", port(ssl, key, entries.get(i)), http2));
      }
    }
    return new SslConfig(listen, fallbackSni);
  }

  /**
   * {@code apisix.ssl.ssl_protocols}: Ballast serves TLSv1.2 and TLSv1.3, APISIX's default, and
   * cannot narrow them. Any other value is refused rather than ignored: someone who asked for
   * TLSv1.3 only must not be served TLSv1.2 without knowing.
   */
  private static void checkProtocols(ConfigNode ssl) {
    Optional<String> protocols = ssl.string("ssl_protocols");
    if (protocols.isEmpty()) {
      return;
    }
    Set<String> given = Set.of(protocols.get().trim().split("\\s+"));
    if (!given.equals(Set.of("TLSv1.2", "TLSv1.3"))) {
      throw ssl.error(
          "ssl_protocols",
          "Ballast serves TLSv1.2 and TLSv1.3 and cannot change them; leave the key out or set"
              + " 'TLSv1.2 TLSv1.3', not '"
              + protocols.get()
              + "'");
    }
  }

  /** A block {@code {ip, port}} as APISIX writes {@code apisix.status} and {@code admin_listen}. */
  static Listen listenBlock(ConfigNode parent, String key, Listen defaults) {
    Optional<ConfigNode> block = parent.child(key);
    if (block.isEmpty()) {
      return defaults;
    }
    ConfigNode node = block.get();
    node.rejectUnknownKeys(Set.of("ip", "port"));
    String ip = node.string("ip", defaults.ip());
    return new Listen(ip, port(node, "port", node.raw("port").orElse(defaults.port())));
  }

  /** {@code host:port} text, as APISIX writes {@code conf_server.listen}. */
  static Listen listenText(ConfigNode parent, String key, Listen defaults) {
    Optional<String> text = parent.string(key);
    if (text.isEmpty()) {
      return defaults;
    }
    String value = text.get().trim();
    int colon = value.lastIndexOf(':');
    if (colon <= 0) {
      throw parent.error(key, "must be ip:port, not '" + value + "'");
    }
    return new Listen(value.substring(0, colon), port(parent, key, value.substring(colon + 1)));
  }

  private static int port(ConfigNode node, String key, Object value) {
    try {
      int port = Integer.parseInt(String.valueOf(value).trim());
      if (port < 0 || port > 65535) {
        throw new NumberFormatException();
      }
      return port;
    } catch (NumberFormatException e) {
      throw node.error(key, "must be a port number 0-65535, not '" + value + "'");
    }
  }

  /**
   * The CP endpoints: {@code role_data_plane.control_plane.host} (Ballast's own form) or APISIX's
   * {@code deployment.etcd.host}; {@code https://} hosts use {@code deployment.certs}.
   */
  private static List<URI> controlPlaneHosts(ConfigNode deployment, ConfigNode dataPlane) {
    ConfigNode source = dataPlane.childOrEmpty("control_plane");
    source.rejectUnknownKeys(Set.of("host"));
    if (!source.has("host")) {
      source = deployment.childOrEmpty("etcd");
    }
    List<Object> hosts = source.list("host");
    if (hosts.isEmpty()) {
      throw dataPlane.error(
          "control_plane.host",
          "is required on a data_plane node with config_provider control_plane");
    }
    List<URI> uris = new ArrayList<>();
    for (Object host : hosts) {
      try {
        URI uri = URI.create(host.toString().trim());
        if (uri.getHost() == null
            || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
          throw new IllegalArgumentException("not an http:// or https://host:port address");
        }
        uris.add(uri);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(
            source.file(), source.pathOf("host"), "'" + host + "': " + e.getMessage());
      }
    }
    return List.copyOf(uris);
  }

  /** Never prints admin keys or storage credentials. */
  @Override
  public String toString() {
    return "NodeConfig[file="
        + file
        + ", role="
        + role.id()
        + ", proxy="
        + proxyListen
        + ", worker_processes="
        + workerProcesses
        + ", ssl_listen="
        + ssl.listen()
        + ", status="
        + statusListen
        + ", admin="
        + admin.listen()
        + ", conf_server="
        + confServerListen
        + ", config_provider="
        + configProvider
        + ", control_plane="
        + controlPlaneHosts
        + ", fallback_cp="
        + fallbackCp
        + (standaloneFile == null ? "" : ", standalone_file=" + standaloneFile)
        + ", data_dir="
        + dataDir
        + "]";
  }
}
