package io.ballast.gateway.tls;

import io.ballast.gateway.tls.ServerCertificate.PemPair;
import io.ballast.resource.Fields;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The server certificates of a configuration, by SNI: every enabled ssl resource under each of its
 * {@code snis} (or {@code sni}). Lookup takes the exact name first, then a {@code *.} wildcard
 * covering one label; both ignore case and a trailing dot. When two ssls claim one name, the
 * smaller id wins (ids compared as strings, as routes break ties).
 *
 * <p>Expired certificates are accepted, as APISIX and nginx do: a certificate expires while the
 * configuration stays the same, and refusing it would make the data plane refuse every later
 * snapshot until someone replaced it.
 */
public final class CertificateTable {

  private static final CertificateTable EMPTY = new CertificateTable(Map.of(), Map.of(), Map.of());

  /** Exact lower-case name → certificate. */
  private final Map<String, ServerCertificate> exact;

  /** Lower-case suffix after {@code *.} → certificate. */
  private final Map<String, ServerCertificate> wildcard;

  /** Built certificates by their PEM material, for the next table to reuse. */
  private final Map<List<PemPair>, ServerCertificate> built;

  private CertificateTable(
      Map<String, ServerCertificate> exact,
      Map<String, ServerCertificate> wildcard,
      Map<List<PemPair>, ServerCertificate> built) {
    this.exact = exact;
    this.wildcard = wildcard;
    this.built = built;
  }

  public static CertificateTable empty() {
    return EMPTY;
  }

  /**
   * Builds the certificates of {@code ssls}, reusing those of {@code previous} whose PEM text is
   * unchanged, since building thousands of TLS contexts on every swap would be slow.
   *
   * @throws IllegalArgumentException naming the ssl id and field of the first ssl that cannot be
   *     built, e.g. {@code ssl 's1': key: does not match the certificate in cert}
   */
  public static CertificateTable compile(Map<String, Resource> ssls, CertificateTable previous) {
    Map<String, ServerCertificate> exact = new HashMap<>();
    Map<String, ServerCertificate> wildcard = new HashMap<>();
    Map<List<PemPair>, ServerCertificate> built = new HashMap<>();
    List<Resource> byId = new ArrayList<>(ssls.values());
    byId.sort(Comparator.comparing(Resource::id));
    for (Resource ssl : byId) {
      Fields fields = fieldsOf(ssl);
      if (!enabled(ssl.value(), fields)) {
        continue;
      }
      List<PemPair> pairs = pairs(ssl.value(), fields);
      ServerCertificate certificate = built.get(pairs);
      if (certificate == null) {
        certificate = previous.built.get(pairs);
      }
      if (certificate == null || !certificate.sslId().equals(ssl.id())) {
        certificate = ServerCertificate.build(ssl.id(), pairs, fields);
      }
      built.put(pairs, certificate);
      for (String name : names(ssl.value(), fields)) {
        if (name.startsWith("*.")) {
          wildcard.putIfAbsent(name.substring(2), certificate);
        } else {
          exact.putIfAbsent(name, certificate);
        }
      }
    }
    return new CertificateTable(Map.copyOf(exact), Map.copyOf(wildcard), Map.copyOf(built));
  }

  /**
   * Checks one ssl as the Admin API does before storing it, disabled or not.
   *
   * @throws IllegalArgumentException naming the ssl and field at fault
   */
  public static void check(Resource ssl) {
    Fields fields = fieldsOf(ssl);
    enabled(ssl.value(), fields);
    names(ssl.value(), fields);
    ServerCertificate.build(ssl.id(), pairs(ssl.value(), fields), fields);
  }

  /** The certificate for a client's SNI, if any ssl covers it. */
  public Optional<ServerCertificate> lookup(String serverName) {
    if (serverName == null || serverName.isEmpty()) {
      return Optional.empty();
    }
    String name = normalize(serverName);
    ServerCertificate found = exact.get(name);
    if (found == null) {
      int dot = name.indexOf('.');
      if (dot > 0) {
        found = wildcard.get(name.substring(dot + 1));
      }
    }
    return Optional.ofNullable(found);
  }

  private static Fields fieldsOf(Resource ssl) {
    Fields fields = new Fields(ResourceType.SSLS.singular() + " '" + ssl.id() + "'");
    if (ssl.type() != ResourceType.SSLS) {
      throw fields.invalid("type", "expected an ssl");
    }
    return fields;
  }

  private static boolean enabled(ObjectNode value, Fields fields) {
    JsonNode status = value.get("status");
    return !Fields.present(status) || fields.integer(status, "status", 0, 1) == 1;
  }

  private static List<String> names(ObjectNode value, Fields fields) {
    List<String> names = new ArrayList<>();
    JsonNode snis = value.get("snis");
    JsonNode sni = value.get("sni");
    if (Fields.present(snis)) {
      names.addAll(fields.strings(snis, "snis"));
    } else if (Fields.present(sni)) {
      names.add(fields.string(sni, "sni"));
    } else {
      throw fields.invalid("snis", "is required (or sni)");
    }
    List<String> normalized = new ArrayList<>(names.size());
    for (String name : names) {
      String n = normalize(name);
      if (n.isEmpty() || n.indexOf('*', n.startsWith("*.") ? 1 : 0) >= 0) {
        throw fields.invalid(
            Fields.present(snis) ? "snis" : "sni",
            "'" + name + "' is not a host name or *.wildcard");
      }
      normalized.add(n);
    }
    return normalized;
  }

  /** {@code cert}/{@code key}, then each {@code certs[i]}/{@code keys[i]}. */
  private static List<PemPair> pairs(ObjectNode value, Fields fields) {
    List<PemPair> pairs = new ArrayList<>();
    pairs.add(new PemPair("cert", pem(value, "cert", fields), "key", pem(value, "key", fields)));
    JsonNode certs = value.get("certs");
    JsonNode keys = value.get("keys");
    List<String> extraCerts = Fields.present(certs) ? fields.strings(certs, "certs") : List.of();
    List<String> extraKeys = Fields.present(keys) ? fields.strings(keys, "keys") : List.of();
    if (extraCerts.size() != extraKeys.size()) {
      throw fields.invalid(
          "keys",
          "needs one key per entry of certs: "
              + extraCerts.size()
              + " certs, "
              + extraKeys.size()
              + " keys");
    }
    for (int i = 0; i < extraCerts.size(); i++) {
      pairs.add(
          new PemPair("certs[" + i + "]", extraCerts.get(i), "keys[" + i + "]", extraKeys.get(i)));
    }
    return List.copyOf(pairs);
  }

  private static String pem(ObjectNode value, String field, Fields fields) {
    JsonNode node = value.get(field);
    if (!Fields.present(node)) {
      throw fields.invalid(field, "is required: a PEM string");
    }
    return fields.string(node, field);
  }

  private static String normalize(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
  }
}
