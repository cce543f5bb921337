package io.ballast.service.config;

import io.ballast.config.ConfigNode;
import io.ballast.controlplane.admin.AdminAccess;
import io.ballast.controlplane.admin.AdminKey;
import io.ballast.resource.Cidr;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * APISIX's {@code deployment.admin} block: who may use the Admin API and where it listens.
 *
 * <p>Secure by default, where APISIX is not: the Admin API listens on 127.0.0.1 (APISIX: 0.0.0.0),
 * an entry without a {@code role} is refused (APISIX gives it every right), and a value of {@code
 * allow_admin} that is not a list is refused (APISIX then serves every client). On a listener other
 * people can reach, a node refuses to start with a publicly known key ({@link PublicSecrets}) or
 * with {@code admin_key_required: false}; on loopback it starts and warns.
 *
 * @param listen {@code admin_listen}
 * @param keys {@code admin_key}, in the file's order
 * @param allowed {@code allow_admin}; APISIX's default {@code 127.0.0.0/24} when absent
 * @param keyRequired {@code admin_key_required}
 * @param warnings what to log at WARN when the Admin API starts; never a key
 */
public record AdminConfig(
    Listen listen,
    List<AdminKey> keys,
    List<Cidr> allowed,
    boolean keyRequired,
    List<String> warnings) {

  public static final Listen DEFAULT_LISTEN = new Listen("127.0.0.1", 9180);
  private static final String DEFAULT_ALLOW = "127.0.0.0/24";

  /**
   * Every key of APISIX's block. Read: admin_key, admin_key_required, admin_listen, allow_admin,
   * admin_api_version (v3 only) and https_admin (false only). Checked and ignored:
   * enable_admin_cors (no CORS headers are sent), enable_admin_ui (there is no embedded dashboard)
   * and admin_api_mtls (APISIX reads it only with https_admin).
   */
  private static final Set<String> BLOCK_KEYS =
      Set.of(
          "admin_key",
          "admin_key_required",
          "admin_listen",
          "allow_admin",
          "admin_api_version",
          "https_admin",
          "admin_api_mtls",
          "enable_admin_cors",
          "enable_admin_ui");

  private static final Set<String> ENTRY_KEYS = Set.of("name", "key", "role");
  private static final Set<String> MTLS_KEYS =
      Set.of("admin_ssl_cert", "admin_ssl_cert_key", "admin_ssl_ca_cert");

  public AdminConfig {
    keys = List.copyOf(keys);
    allowed = List.copyOf(allowed);
    warnings = List.copyOf(warnings);
  }

  /**
   * Reads {@code admin}, the {@code deployment.admin} mapping.
   *
   * @param served whether this node serves the Admin API (roles traditional and control_plane):
   *     only then are keys required and checked against where the API listens
   */
  public static AdminConfig parse(ConfigNode admin, boolean served) {
    admin.rejectUnknownKeys(BLOCK_KEYS);
    Listen listen = NodeConfig.listenBlock(admin, "admin_listen", DEFAULT_LISTEN);
    boolean keyRequired = admin.bool("admin_key_required", true);
    List<AdminKey> keys = adminKeys(admin);
    List<String> warnings = new ArrayList<>();
    List<Cidr> allowed = allowAdmin(admin, warnings);
    checkUnsupported(admin);
    if (served) {
      checkServable(admin, listen, keys, keyRequired, warnings);
    }
    return new AdminConfig(listen, keys, allowed, keyRequired, served ? warnings : List.of());
  }

  /** What the Admin API enforces. */
  public AdminAccess access() {
    return new AdminAccess(keys, allowed, keyRequired);
  }

  private static List<AdminKey> adminKeys(ConfigNode admin) {
    List<AdminKey> keys = new ArrayList<>();
    List<Object> entries = admin.list("admin_key");
    for (int i = 0; i < entries.size(); i++) {
      String at = "admin_key[" + i + "]";
      if (!(entries.get(i) instanceof Map<?, ?> entry)) {
        throw admin.error(at, "must be a mapping {name, key, role}");
      }
      admin.rejectUnknownKeys(at, entry, ENTRY_KEYS);
      String key = text(admin, at + ".key", entry.get("key"));
      if (key == null || key.isBlank()) {
        // APISIX generates a key here and writes it back into config.yaml; Ballast never
        // rewrites the file it was given.
        throw admin.error(
            at + ".key",
            "must not be empty: set a long random key, e.g. key: ${{BALLAST_ADMIN_KEY}}");
      }
      for (int j = 0; j < keys.size(); j++) {
        if (keys.get(j).key().equals(key)) {
          throw admin.error(
              at + ".key", "is the same key as admin_key[" + j + "].key; each entry needs its own");
        }
      }
      String name = text(admin, at + ".name", entry.get("name"));
      keys.add(new AdminKey(name == null ? at : name, key, role(admin, at + ".role", entry)));
    }
    return List.copyOf(keys);
  }

  /**
   * APISIX gives an entry without a role every right; Ballast asks for it, so that a key meant for
   * reading cannot write because a line was forgotten.
   */
  private static AdminKey.Role role(ConfigNode admin, String at, Map<?, ?> entry) {
    String role = text(admin, at, entry.get("role"));
    if (role == null) {
      throw admin.error(at, "is required: admin (reads and writes) or viewer (reads only)");
    }
    return switch (role) {
      case "admin" -> AdminKey.Role.ADMIN;
      case "viewer" -> AdminKey.Role.VIEWER;
      default -> throw admin.error(at, "must be admin or viewer, not '" + role + "'");
    };
  }

  private static String text(ConfigNode admin, String at, Object value) {
    if (value instanceof Map<?, ?> || value instanceof List<?>) {
      throw admin.error(
          at, "must be a single value, not a " + (value instanceof Map ? "mapping" : "list"));
    }
    return value == null ? null : String.valueOf(value);
  }

  /**
   * APISIX writes {@code allow_admin} as nginx's allow rules followed by {@code deny all}: an empty
   * list serves nobody, and a null value (the key written with nothing after it) removes the
   * default and serves everybody. Ballast keeps the first and refuses the second: serving every
   * client has to be written ({@code 0.0.0.0/0} and {@code ::/0}). As with nginx, an IPv4 block
   * never admits an IPv6 client (add {@code ::1/128} to serve IPv6 loopback), except an IPv4-mapped
   * one.
   */
  private static List<Cidr> allowAdmin(ConfigNode admin, List<String> warnings) {
    if (!admin.keys().contains("allow_admin")) {
      return List.of(Cidr.parse(DEFAULT_ALLOW));
    }
    if (!admin.has("allow_admin")) {
      throw admin.error(
          "allow_admin",
          "has no value; APISIX reads that as 'every client' and Ballast does not guess: list"
              + " the client CIDRs to serve (APISIX's default is "
              + DEFAULT_ALLOW
              + "; 0.0.0.0/0 and ::/0 serve everybody)");
    }
    List<Object> entries = admin.list("allow_admin");
    List<Cidr> allowed = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      try {
        allowed.add(Cidr.parse(String.valueOf(entries.get(i)).trim()));
      } catch (IllegalArgumentException e) {
        throw admin.error("allow_admin[" + i + "]", e.getMessage());
      }
    }
    if (allowed.isEmpty()) {
      warnings.add(
          admin.pathOf("allow_admin")
              + " is an empty list: the Admin API refuses every client (403), as APISIX does");
    }
    return List.copyOf(allowed);
  }

  /** APISIX settings Ballast does not implement: checked, and refused where ignoring them lies. */
  private static void checkUnsupported(ConfigNode admin) {
    String version = admin.string("admin_api_version", "v3");
    if (!version.equals("v3")) {
      throw admin.error(
          "admin_api_version",
          "must be v3: Ballast serves APISIX's v3 Admin API only, not '" + version + "'");
    }
    if (admin.bool("https_admin", false)) {
      // Ignoring it would serve plain HTTP to someone who asked for TLS.
      throw admin.error(
          "https_admin",
          "true is not supported: Ballast serves the Admin API over plain HTTP; keep admin_listen"
              + " on 127.0.0.1 or put a TLS proxy in front, and remove this key");
    }
    Optional<ConfigNode> mtls = admin.child("admin_api_mtls");
    mtls.ifPresent(block -> block.rejectUnknownKeys(MTLS_KEYS));
    admin.bool("enable_admin_cors", true);
    admin.bool("enable_admin_ui", true);
  }

  /** What a node serving the Admin API on {@code listen} must refuse, or warn about. */
  private static void checkServable(
      ConfigNode admin,
      Listen listen,
      List<AdminKey> keys,
      boolean keyRequired,
      List<String> warnings) {
    boolean loopback = listen.isLoopback();
    String where =
        "admin_listen "
            + listen
            + (loopback ? " is loopback" : " is not a loopback address (127.0.0.1, ::1)");
    if (!keyRequired) {
      if (!loopback) {
        throw admin.error(
            "admin_key_required",
            "false serves the Admin API without a key to anyone who can reach it, and "
                + where
                + ": set admin_key_required true, or listen on 127.0.0.1");
      }
      warnings.add(
          admin.pathOf("admin_key_required")
              + " is false: every local client allowed by allow_admin can change the configuration"
              + " without a key");
      return;
    }
    if (keys.isEmpty()) {
      throw admin.error(
          "admin_key",
          "is required where the Admin API is served (role traditional or control_plane): a list"
              + " of {name, key, role} entries");
    }
    for (int i = 0; i < keys.size(); i++) {
      Optional<String> known = PublicSecrets.whereKnown(keys.get(i).key());
      if (known.isEmpty()) {
        continue;
      }
      String at = "admin_key[" + i + "].key";
      if (!loopback) {
        throw admin.error(
            at,
            "is "
                + known.get()
                + ", which anyone can read, and "
                + where
                + ": set your own long random key, e.g. key: ${{BALLAST_ADMIN_KEY}}");
      }
      warnings.add(
          admin.pathOf(at)
              + " is "
              + known.get()
              + ", which anyone can read; accepted only because "
              + where
              + ". Set BALLAST_ADMIN_KEY (or your own key) before listening anywhere else");
    }
  }

  /** Never prints a key. */
  @Override
  public String toString() {
    return "AdminConfig[listen=" + listen + ", keys=" + keys + ", allow_admin=" + allowed + "]";
  }
}
