package io.ballast.resource;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * An APISIX ssl: certificate chains with their private keys, and the server names they serve.
 * Whether the PEM text decodes, and whether each key matches its certificate, is checked where the
 * TLS context is built (the gateway), which the Admin API and data planes both run.
 *
 * @param pairs {@code cert}/{@code key} first, then each {@code certs[i]}/{@code keys[i]}
 * @param snis lower case, without a trailing dot; {@code *.} wildcards allowed
 * @param enabled APISIX's {@code status}: 0 keeps the ssl but serves nothing from it
 */
public record SslSpec(List<CertificateKey> pairs, List<String> snis, boolean enabled)
    implements ResourceSpec {

  /**
   * One certificate chain and its key, in PEM, with the fields they came from (errors name them).
   */
  public record CertificateKey(String certField, String cert, String keyField, String key) {

    /** Never the key. */
    @Override
    public String toString() {
      return certField + "/" + keyField;
    }
  }

  /** The fields APISIX's ssl schema allows. */
  static final Set<String> FIELDS =
      Set.of(
          "id",
          "desc",
          "labels",
          "create_time",
          "update_time",
          "type",
          "cert",
          "key",
          "sni",
          "snis",
          "certs",
          "keys",
          "client",
          "status",
          "ssl_protocols");

  /** Both narrow who may connect or how; ignoring them would serve more than the ssl allows. */
  private static final Map<String, String> UNSUPPORTED =
      Map.of(
          "client", "verifying client certificates (mTLS) on the proxy",
          "ssl_protocols", "choosing TLS protocol versions per ssl");

  public SslSpec {
    pairs = List.copyOf(pairs);
    snis = List.copyOf(snis);
  }

  static SslSpec parse(JsonNode ssl, Fields fields) {
    fields.onlyKnown(ssl, "", FIELDS);
    fields.unsupported(ssl, "", UNSUPPORTED);
    List<CertificateKey> pairs = new ArrayList<>();
    pairs.add(new CertificateKey("cert", pem(ssl, "cert", fields), "key", pem(ssl, "key", fields)));
    JsonNode certs = ssl.get("certs");
    JsonNode keys = ssl.get("keys");
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
          new CertificateKey(
              "certs[" + i + "]", extraCerts.get(i), "keys[" + i + "]", extraKeys.get(i)));
    }
    JsonNode type = ssl.get("type");
    if (type != null && !(type.isString() && type.stringValue().equals("server"))) {
      throw fields.invalid("type", "only 'server' certificates are supported");
    }
    return new SslSpec(pairs, snis(ssl, fields), RouteSpec.enabled(ssl, fields));
  }

  private static String pem(JsonNode ssl, String field, Fields fields) {
    JsonNode pem = ssl.get(field);
    if (pem == null || !pem.isString() || pem.stringValue().isBlank()) {
      throw fields.invalid(field, "is required: a PEM string");
    }
    return pem.stringValue();
  }

  /** {@code snis} or {@code sni}, not both. */
  private static List<String> snis(JsonNode ssl, Fields fields) {
    JsonNode sni = ssl.get("sni");
    JsonNode snis = ssl.get("snis");
    if (sni != null && snis != null) {
      throw fields.invalid("snis", "give either sni or snis, not both");
    }
    if (sni == null && snis == null) {
      throw fields.invalid("snis", "is required (or sni)");
    }
    List<String> names =
        sni != null
            ? List.of(HostNames.one(sni, fields, "sni"))
            : HostNames.list(snis, fields, "snis");
    List<String> normalized = new ArrayList<>(names.size());
    for (String name : names) {
      String n = name.toLowerCase(Locale.ROOT);
      n = n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
      // A wildcard covers one whole label: "*.example.com", never "*example.com".
      if (n.isEmpty() || n.indexOf('*', n.startsWith("*.") ? 1 : 0) >= 0) {
        throw fields.invalid(
            sni != null ? "sni" : "snis", "'" + name + "' is not a host name or *.wildcard");
      }
      normalized.add(n);
    }
    return normalized;
  }
}
