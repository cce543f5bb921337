package io.ballast.gateway.tls;

import io.ballast.resource.Fields;
import io.ballast.resource.Resource;
import io.ballast.resource.SslSpec;
import io.ballast.resource.SslSpec.CertificateKey;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

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
  private final Map<List<CertificateKey>, ServerCertificate> built;

  private CertificateTable(
      Map<String, ServerCertificate> exact,
      Map<String, ServerCertificate> wildcard,
      Map<List<CertificateKey>, ServerCertificate> built) {
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
    Map<List<CertificateKey>, ServerCertificate> built = new HashMap<>();
    List<Resource> byId = new ArrayList<>(ssls.values());
    byId.sort(Comparator.comparing(Resource::id));
    for (Resource ssl : byId) {
      SslSpec spec = ssl.spec(SslSpec.class);
      if (!spec.enabled()) {
        continue;
      }
      List<CertificateKey> pairs = spec.pairs();
      ServerCertificate certificate = built.get(pairs);
      if (certificate == null) {
        certificate = previous.built.get(pairs);
      }
      if (certificate == null || !certificate.sslId().equals(ssl.id())) {
        certificate = ServerCertificate.build(ssl.id(), pairs, new Fields(ssl.owner()));
      }
      built.put(pairs, certificate);
      for (String name : spec.snis()) {
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
    ServerCertificate.build(ssl.id(), ssl.spec(SslSpec.class).pairs(), new Fields(ssl.owner()));
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

  private static String normalize(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
  }
}
