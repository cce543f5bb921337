package io.ballast.gateway.tls;

import io.ballast.resource.Fields;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Reads the PEM text of an APISIX ssl. Messages name the field and the problem, never a byte of the
 * key: exceptions from the JDK are summarised by their type, not their message.
 */
final class Pem {

  private static final String PKCS8 = "PRIVATE KEY";
  private static final String PKCS1_RSA = "RSA PRIVATE KEY";

  private Pem() {}

  /** A certificate chain, leaf first. */
  static X509Certificate[] certificates(String pem, Fields fields, String field) {
    List<X509Certificate> chain = new ArrayList<>();
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      for (var cert :
          factory.generateCertificates(
              new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
        chain.add((X509Certificate) cert);
      }
    } catch (CertificateException e) {
      throw fields.invalid(field, "not a PEM certificate chain (" + e.getMessage() + ")");
    }
    if (chain.isEmpty()) {
      throw fields.invalid(field, "holds no PEM certificate");
    }
    return chain.toArray(X509Certificate[]::new);
  }

  /**
   * An unencrypted PKCS#8 key ({@code BEGIN PRIVATE KEY}, OpenSSL 3's default) or a PKCS#1 RSA key
   * ({@code BEGIN RSA PRIVATE KEY}), RSA, EC or Ed25519.
   */
  static PrivateKey privateKey(String pem, Fields fields, String field) {
    String label = label(pem);
    if (label == null) {
      throw fields.invalid(field, "not a PEM private key");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(body(pem, label));
    } catch (IllegalArgumentException e) {
      throw fields.invalid(field, "PEM body is not base64");
    }
    if (label.equals(PKCS1_RSA)) {
      der = wrapPkcs1(der);
    } else if (!label.equals(PKCS8)) {
      throw fields.invalid(
          field,
          "'BEGIN "
              + label
              + "' keys are not supported; give an unencrypted PKCS#8 key"
              + " (openssl pkcs8 -topk8 -nocrypt)");
    }
    for (String algorithm : new String[] {"RSA", "EC", "Ed25519", "Ed448"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // Try the next algorithm: the DER does not say which one without an ASN.1 parser.
      }
    }
    throw fields.invalid(field, "not an RSA, EC or EdDSA private key");
  }

  /** Whether {@code key} is the private half of {@code certificate}'s public key. */
  static boolean matches(PrivateKey key, X509Certificate certificate) {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          default -> key.getAlgorithm(); // Ed25519, Ed448, EdDSA sign without a digest name
        };
    byte[] probe = "ballast key check".getBytes(StandardCharsets.US_ASCII);
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false; // a key of another algorithm than the certificate's
    }
  }

  private static String label(String pem) {
    int begin = pem.indexOf("-----BEGIN ");
    if (begin < 0) {
      return null;
    }
    int end = pem.indexOf("-----", begin + 11);
    return end < 0 ? null : pem.substring(begin + 11, end);
  }

  private static String body(String pem, String label) {
    String header = "-----BEGIN " + label + "-----";
    String footer = "-----END " + label + "-----";
    int start = pem.indexOf(header) + header.length();
    int end = pem.indexOf(footer, start);
    if (end < 0) {
      throw new IllegalArgumentException();
    }
    return pem.substring(start, end);
  }

  /** PKCS#1 RSAPrivateKey → PKCS#8 PrivateKeyInfo: version 0, rsaEncryption, the key as octets. */
  private static byte[] wrapPkcs1(byte[] pkcs1) {
    byte[] rsaAlgorithm = {
      0x30,
      0x0d,
      0x06,
      0x09,
      0x2a,
      (byte) 0x86,
      0x48,
      (byte) 0x86,
      (byte) 0xf7,
      0x0d,
      0x01,
      0x01,
      0x01,
      0x05,
      0x00
    };
    byte[] version = {0x02, 0x01, 0x00};
    byte[] octets = derElement(0x04, pkcs1);
    byte[] content = new byte[version.length + rsaAlgorithm.length + octets.length];
    System.arraycopy(version, 0, content, 0, version.length);
    System.arraycopy(rsaAlgorithm, 0, content, version.length, rsaAlgorithm.length);
    System.arraycopy(octets, 0, content, version.length + rsaAlgorithm.length, octets.length);
    return derElement(0x30, content);
  }

  private static byte[] derElement(int tag, byte[] content) {
    int length = content.length;
    byte[] lengthBytes;
    if (length < 0x80) {
      lengthBytes = new byte[] {(byte) length};
    } else if (length < 0x100) {
      lengthBytes = new byte[] {(byte) 0x81, (byte) length};
    } else if (length < 0x10000) {
      lengthBytes = new byte[] {(byte) 0x82, (byte) (length >> 8), (byte) length};
    } else {
      lengthBytes =
          new byte[] {(byte) 0x83, (byte) (length >> 16), (byte) (length >> 8), (byte) length};
    }
    byte[] element = new byte[1 + lengthBytes.length + length];
    element[0] = (byte) tag;
    System.arraycopy(lengthBytes, 0, element, 1, lengthBytes.length);
    System.arraycopy(content, 0, element, 1 + lengthBytes.length, length);
    return element;
  }
}
