package io.ballast.gateway.tls;

import io.ballast.resource.Fields;
import io.ballast.resource.SslSpec.CertificateKey;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Consumer;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.Http2SslContextSpec;
import reactor.netty.tcp.SslProvider;

/**
 * The TLS side of one enabled ssl: its key pairs (APISIX's {@code cert}/{@code key} and the extra
 * {@code certs}/{@code keys}, e.g. RSA beside ECDSA) in one key manager, which picks the pair the
 * client's cipher suites allow. Built once per distinct PEM material and carried across tables.
 */
public final class ServerCertificate {

  private final String sslId;
  private final X509Certificate leaf;
  private final SslProvider http2;
  private final SslProvider http11;

  private ServerCertificate(
      String sslId, X509Certificate leaf, SslProvider http2, SslProvider http11) {
    this.sslId = sslId;
    this.leaf = leaf;
    this.http2 = http2;
    this.http11 = http11;
  }

  /**
   * Parses and checks every pair, then builds the contexts.
   *
   * @param pairs {@code cert} with {@code key} first, then {@code certs[i]} with {@code keys[i]}
   * @throws IllegalArgumentException naming the ssl and the field at fault, never the key
   */
  static ServerCertificate build(String sslId, List<CertificateKey> pairs, Fields fields) {
    KeyStore store;
    X509Certificate leaf = null;
    try {
      store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("no PKCS12 key store in this JVM", e);
    }
    for (int i = 0; i < pairs.size(); i++) {
      CertificateKey pair = pairs.get(i);
      X509Certificate[] chain = Pem.certificates(pair.cert(), fields, pair.certField());
      PrivateKey key = Pem.privateKey(pair.key(), fields, pair.keyField());
      if (!Pem.matches(key, chain[0])) {
        throw fields.invalid(
            pair.keyField(), "does not match the certificate in " + pair.certField());
      }
      if (leaf == null) {
        leaf = chain[0];
      }
      try {
        store.setKeyEntry("pair" + i, key, new char[0], chain);
      } catch (GeneralSecurityException e) {
        throw fields.invalid(
            pair.keyField(), "cannot be used (" + e.getClass().getSimpleName() + ")");
      }
    }
    try {
      KeyManagerFactory keys =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, new char[0]);
      // Both variants now, so that a failure names the ssl here and not at a handshake.
      // Netty's OpenSSL engine installs one key pair per connection, whichever the cipher; the
      // JDK's engine asks the key manager per key type, so several pairs take the JDK's.
      Consumer<SslContextBuilder> engine =
          pairs.size() > 1
              ? builder -> builder.sslProvider(io.netty.handler.ssl.SslProvider.JDK)
              : builder -> {};
      SslProvider http2 =
          SslProvider.builder()
              .sslContext(Http2SslContextSpec.forServer(keys).configure(engine).sslContext())
              .build();
      SslProvider http11 =
          SslProvider.builder()
              .sslContext(Http11SslContextSpec.forServer(keys).configure(engine).sslContext())
              .build();
      return new ServerCertificate(sslId, leaf, http2, http11);
    } catch (GeneralSecurityException | SSLException e) {
      throw fields.invalid(
          pairs.get(0).certField(),
          "cannot build a TLS context (" + e.getClass().getSimpleName() + ")");
    }
  }

  /** The ssl resource this came from. */
  public String sslId() {
    return sslId;
  }

  /** The first pair's leaf certificate. */
  public X509Certificate certificate() {
    return leaf;
  }

  /** The TLS setup for a handshake; with ALPN for h2 and http/1.1 when {@code http2}. */
  public SslProvider provider(boolean http2) {
    return http2 ? this.http2 : http11;
  }

  @Override
  public String toString() {
    return "ServerCertificate[ssl=" + sslId + ", subject=" + leaf.getSubjectX500Principal() + "]";
  }
}
