package io.ballast.gateway.tls;

import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** The PEM files under {@code src/test/resources/tls} (see its README) and a TLS test client. */
public final class TestCertificates {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private TestCertificates() {}

  /** A file of {@code src/test/resources/tls}, e.g. {@code a.pem}. */
  public static String pem(String name) {
    try (InputStream in = TestCertificates.class.getResourceAsStream("/tls/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no test resource tls/" + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** An ssl resource with {@code <name>.pem} and {@code <name>.key} for {@code snis}. */
  public static Resource ssl(String id, String name, String... snis) {
    return sslPem(id, pem(name + ".pem"), pem(name + ".key"), snis);
  }

  /** An ssl resource with the given PEM text. */
  public static Resource sslPem(String id, String cert, String key, String... snis) {
    ObjectNode value = JSON.createObjectNode();
    value.put("id", id);
    value.put("cert", cert);
    value.put("key", key);
    var array = value.putArray("snis");
    List.of(snis).forEach(array::add);
    return Resource.parse(ResourceType.SSLS, id, value);
  }

  /** {@code ssl} written again with {@code change} applied to a copy of its JSON. */
  public static Resource with(Resource ssl, java.util.function.Consumer<ObjectNode> change) {
    ObjectNode value = ssl.value().deepCopy();
    change.accept(value);
    return Resource.parse(ssl.type(), ssl.id(), value);
  }

  /** {@code ssl} with an extra {@code certs}/{@code keys} pair. */
  public static Resource withExtraPair(Resource ssl, String cert, String key) {
    return with(
        ssl,
        value -> {
          value.putArray("certs").add(cert);
          if (key != null) {
            value.putArray("keys").add(key);
          }
        });
  }

  /** A client context trusting only the test CA. */
  public static SSLContext clientContext() {
    try {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      trust.setCertificateEntry("ca", caCertificate());
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      return context;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static X509Certificate caCertificate() {
    try {
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificate(
                  new java.io.ByteArrayInputStream(
                      pem("ca.pem").getBytes(StandardCharsets.US_ASCII)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Handshakes with {@code sni} ({@code null}: none) and returns the server's leaf certificate.
   * Host names are not verified: the connection goes to 127.0.0.1 whatever the SNI.
   */
  public static X509Certificate handshake(InetSocketAddress address, String sni)
      throws IOException {
    return handshake(address, sni, new String[0]);
  }

  /** As above, over TLS 1.2 with only {@code cipherSuites} when any are given. */
  public static X509Certificate handshake(
      InetSocketAddress address, String sni, String... cipherSuites) throws IOException {
    try (SSLSocket socket = (SSLSocket) clientContext().getSocketFactory().createSocket()) {
      socket.connect(address, 5_000);
      socket.setSoTimeout(5_000);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
      if (cipherSuites.length > 0) {
        parameters.setProtocols(new String[] {"TLSv1.2"});
        parameters.setCipherSuites(cipherSuites);
      }
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }
  }

  /** The CN of a certificate's subject. */
  public static String commonName(X509Certificate certificate) {
    String subject = certificate.getSubjectX500Principal().getName();
    for (String part : subject.split(",")) {
      if (part.startsWith("CN=")) {
        return part.substring(3);
      }
    }
    return subject;
  }
}
