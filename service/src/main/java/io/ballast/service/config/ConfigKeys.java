package io.ballast.service.config;

import io.ballast.config.ConfigNode;
import java.util.Set;

/**
 * The keys a node's file may have in the sections Ballast checks: APISIX's own (its {@code
 * apisix/cli/config.lua} defaults, {@code conf/config.yaml.example} and {@code
 * apisix/cli/schema.lua}), API7's {@code fallback_cp} and Ballast's {@code ballast}. A key outside
 * these sets is a typo or a setting from somewhere else, and is refused with its key path: a
 * silently ignored {@code node_listn} or {@code deployment.rol} starts a node that is not the one
 * the user described.
 *
 * <p>Known keys Ballast does not act on are accepted and reported by {@link IgnoredKeys}. Blocks
 * with a parser of their own ({@code deployment.admin}, {@code deployment.certs}, {@code
 * conf_server}, {@code control_plane}, {@code apisix.data_encryption}, {@code apisix.status},
 * {@code fallback_cp}, {@code ballast}) check their own keys.
 */
final class ConfigKeys {

  static final Set<String> ROOT =
      Set.of(
          "apisix",
          "nginx_config",
          "http",
          "graphql",
          "plugins",
          "stream_plugins",
          "plugin_attr",
          "wasm",
          "xrpc",
          "ext-plugin",
          "discovery",
          "deployment",
          // API7's storage block (also accepted under deployment) and Ballast's own settings.
          "fallback_cp",
          "ballast");

  static final Set<String> APISIX =
      Set.of(
          "node_listen",
          "enable_admin",
          "enable_dev_mode",
          "enable_reuseport",
          "show_upstream_status_in_response_header",
          "enable_ipv6",
          "enable_http2",
          "enable_server_tokens",
          "extra_lua_path",
          "extra_lua_cpath",
          "lua_module_hook",
          "proxy_protocol",
          "proxy_cache",
          "delete_uri_tail_slash",
          "normalize_uri_like_servlet",
          "match_uri_encoded_slash",
          "max_post_args_readable_size",
          "router",
          "proxy_mode",
          "stream_proxy",
          "dns_resolver",
          "dns_resolver_valid",
          "resolver_timeout",
          "enable_resolv_search_opt",
          "ssl",
          "enable_control",
          "control",
          "disable_sync_configuration_during_start",
          "worker_startup_time_threshold",
          "data_encryption",
          "status",
          "disable_upstream_healthcheck",
          "trusted_addresses",
          "lru",
          "tracing",
          "id");

  static final Set<String> APISIX_SSL =
      Set.of(
          "enable",
          "listen",
          "ssl_protocols",
          "ssl_ciphers",
          "ssl_session_tickets",
          "ssl_trusted_certificate",
          "fallback_sni");

  static final Set<String> DEPLOYMENT =
      Set.of(
          "role",
          "role_traditional",
          "role_control_plane",
          "role_data_plane",
          "admin",
          "etcd",
          "certs",
          // API7's gateway file puts it here; FallbackCpConfig.find reads either place.
          "fallback_cp");

  static final Set<String> ROLE_TRADITIONAL = Set.of("config_provider");
  static final Set<String> ROLE_CONTROL_PLANE = Set.of("config_provider", "conf_server");
  static final Set<String> ROLE_DATA_PLANE = Set.of("config_provider", "control_plane");

  static final Set<String> ETCD =
      Set.of(
          "host",
          "prefix",
          "timeout",
          "watch_timeout",
          "startup_retry",
          "resync_delay",
          "health_check_timeout",
          "user",
          "password",
          "tls");
  static final Set<String> ETCD_TLS = Set.of("cert", "key", "verify", "sni");

  private ConfigKeys() {}

  /**
   * Refuses the first unknown key, parents before children, so that a misspelt section is named
   * rather than the keys inside it.
   *
   * @throws io.ballast.config.ConfigException naming the file, the key path and, when a known key
   *     is close, the key meant
   */
  static void rejectUnknown(ConfigNode root) {
    root.rejectUnknownKeys(ROOT);
    ConfigNode apisix = root.childOrEmpty("apisix");
    apisix.rejectUnknownKeys(APISIX);
    apisix.childOrEmpty("ssl").rejectUnknownKeys(APISIX_SSL);
    ConfigNode deployment = root.childOrEmpty("deployment");
    deployment.rejectUnknownKeys(DEPLOYMENT);
    deployment.childOrEmpty("role_traditional").rejectUnknownKeys(ROLE_TRADITIONAL);
    deployment.childOrEmpty("role_control_plane").rejectUnknownKeys(ROLE_CONTROL_PLANE);
    deployment.childOrEmpty("role_data_plane").rejectUnknownKeys(ROLE_DATA_PLANE);
    ConfigNode etcd = deployment.childOrEmpty("etcd");
    etcd.rejectUnknownKeys(ETCD);
    etcd.childOrEmpty("tls").rejectUnknownKeys(ETCD_TLS);
  }
}
