package io.ballast.service.config;

import io.ballast.config.ConfigNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The APISIX keys of a node's file that Ballast accepts but does not act on, each with the reason,
 * so that a user bringing an APISIX file learns once, at start, which of its settings have no
 * effect. Keys nobody knows are refused by {@link ConfigKeys} instead. The README's table lists the
 * same keys.
 */
public final class IgnoredKeys {

  private static final Logger log = LoggerFactory.getLogger(IgnoredKeys.class);

  private static final String NGINX = "nginx setting";
  private static final String LUA = "Lua setting";
  private static final String NOT_IMPLEMENTED = "not implemented";
  private static final String HTTP_ONLY = "Ballast proxies HTTP only";

  /** Top-level sections Ballast reads nothing of. */
  private static final Map<String, String> SECTIONS = new LinkedHashMap<>();

  /** Keys of {@code apisix}; those not here are read (node_listen, ssl, status, …). */
  private static final Map<String, String> APISIX = new LinkedHashMap<>();

  /** Keys of {@code apisix.ssl}; enable, listen and fallback_sni are read. */
  private static final Map<String, String> APISIX_SSL = new LinkedHashMap<>();

  static {
    SECTIONS.put("http", NGINX);
    SECTIONS.put("graphql", NOT_IMPLEMENTED);
    SECTIONS.put("plugins", "every plugin Ballast has is enabled");
    SECTIONS.put("stream_plugins", HTTP_ONLY);
    SECTIONS.put("wasm", NOT_IMPLEMENTED);
    SECTIONS.put("xrpc", HTTP_ONLY);
    SECTIONS.put("ext-plugin", NOT_IMPLEMENTED);
    SECTIONS.put("discovery", NOT_IMPLEMENTED);

    APISIX.put("enable_admin", "the role decides where the Admin API runs");
    APISIX.put("enable_dev_mode", NGINX);
    APISIX.put("enable_reuseport", NGINX);
    APISIX.put("show_upstream_status_in_response_header", NOT_IMPLEMENTED);
    APISIX.put("enable_ipv6", "listeners bind the addresses written");
    APISIX.put("enable_server_tokens", "Ballast sends no Server header");
    APISIX.put("extra_lua_path", LUA);
    APISIX.put("extra_lua_cpath", LUA);
    APISIX.put("lua_module_hook", LUA);
    APISIX.put("proxy_protocol", NOT_IMPLEMENTED);
    APISIX.put("proxy_cache", "nginx cache; proxy-cache is not implemented");
    APISIX.put("delete_uri_tail_slash", NOT_IMPLEMENTED);
    APISIX.put("normalize_uri_like_servlet", NOT_IMPLEMENTED);
    APISIX.put("match_uri_encoded_slash", NOT_IMPLEMENTED);
    APISIX.put("max_post_args_readable_size", "post_arg matching is not implemented");
    APISIX.put("router", "Ballast has one router");
    APISIX.put("proxy_mode", HTTP_ONLY);
    APISIX.put("stream_proxy", HTTP_ONLY);
    APISIX.put("dns_resolver", "the system resolver is used");
    APISIX.put("dns_resolver_valid", "the system resolver is used");
    APISIX.put("resolver_timeout", "the system resolver is used");
    APISIX.put("enable_resolv_search_opt", "the system resolver is used");
    APISIX.put("enable_control", "the Control API is not implemented; see apisix.status");
    APISIX.put("control", "the Control API is not implemented; see apisix.status");
    APISIX.put("disable_sync_configuration_during_start", NGINX);
    APISIX.put("worker_startup_time_threshold", NGINX);
    APISIX.put("disable_upstream_healthcheck", NOT_IMPLEMENTED);
    APISIX.put("trusted_addresses", "no client's X-Forwarded-* is trusted");
    APISIX.put("lru", LUA);
    APISIX.put("tracing", NOT_IMPLEMENTED);
    APISIX.put("id", "ballast.node_id names the node");

    APISIX_SSL.put("ssl_ciphers", "the TLS library's default suites are used");
    APISIX_SSL.put("ssl_session_tickets", "the TLS library's default is used");
    APISIX_SSL.put("ssl_trusted_certificate", NOT_IMPLEMENTED);
  }

  private IgnoredKeys() {}

  /** The ignored keys {@code root} has, as {@code key.path (reason)}, in file order. */
  public static List<String> find(ConfigNode root) {
    List<String> found = new ArrayList<>();
    for (String key : root.keys()) {
      Optional.ofNullable(SECTIONS.get(key)).ifPresent(reason -> found.add(entry(key, reason)));
    }
    ConfigNode apisix = root.childOrEmpty("apisix");
    addKnown(found, apisix, APISIX);
    addKnown(found, apisix.childOrEmpty("ssl"), APISIX_SSL);
    ConfigNode nginx = root.childOrEmpty("nginx_config");
    for (String key : nginx.keys()) {
      if (!key.equals("worker_processes")) {
        found.add(entry(nginx.pathOf(key), NGINX));
      }
    }
    addPluginAttributes(found, root.childOrEmpty("plugin_attr"));
    addDeployment(found, root.childOrEmpty("deployment"));
    return found;
  }

  /** Logs, once per start, one INFO line listing the ignored keys; nothing when there are none. */
  public static void log(ConfigNode root) {
    List<String> found = find(root);
    if (!found.isEmpty()) {
      log.info(
          "{}: ignoring settings Ballast does not use (see the README): {}",
          root.file(),
          String.join(", ", found));
    }
  }

  private static void addKnown(List<String> found, ConfigNode node, Map<String, String> reasons) {
    for (String key : node.keys()) {
      String reason = reasons.get(key);
      if (reason != null) {
        found.add(entry(node.pathOf(key), reason));
      }
    }
  }

  /** Ballast reads only {@code plugin_attr.prometheus.export_addr}. */
  private static void addPluginAttributes(List<String> found, ConfigNode pluginAttr) {
    for (String plugin : pluginAttr.keys()) {
      if (!plugin.equals("prometheus")) {
        found.add(entry(pluginAttr.pathOf(plugin), NOT_IMPLEMENTED));
        continue;
      }
      Optional<Object> prometheus = pluginAttr.raw(plugin);
      if (prometheus.isPresent() && prometheus.get() instanceof Map<?, ?>) {
        ConfigNode attributes = pluginAttr.child(plugin).orElseThrow();
        for (String key : attributes.keys()) {
          if (!key.equals("export_addr")) {
            found.add(entry(attributes.pathOf(key), NOT_IMPLEMENTED));
          }
        }
      }
    }
  }

  /**
   * Ballast keeps its own store, so the roles' {@code config_provider} other than a data plane's
   * and etcd's settings mean nothing, except {@code etcd.host} as a data plane's CP address when
   * {@code role_data_plane.control_plane.host} is not set.
   */
  private static void addDeployment(List<String> found, ConfigNode deployment) {
    for (String role : List.of("role_traditional", "role_control_plane")) {
      ConfigNode block = deployment.childOrEmpty(role);
      if (block.has("config_provider")) {
        found.add(
            entry(
                block.pathOf("config_provider"),
                "a node holding configuration uses its own store"));
      }
    }
    ConfigNode etcd = deployment.childOrEmpty("etcd");
    boolean hostRead =
        deployment.string("role", "traditional").equals("data_plane")
            && deployment
                .childOrEmpty("role_data_plane")
                .string("config_provider", "control_plane")
                .equals("control_plane")
            && !deployment
                .childOrEmpty("role_data_plane")
                .childOrEmpty("control_plane")
                .has("host");
    for (String key : etcd.keys()) {
      if (!(key.equals("host") && hostRead)) {
        found.add(entry(etcd.pathOf(key), "Ballast uses no etcd"));
      }
    }
  }

  private static String entry(String path, String reason) {
    return path + " (" + reason + ")";
  }
}
