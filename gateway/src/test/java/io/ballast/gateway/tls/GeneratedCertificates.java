package io.ballast.gateway.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * CAs and certificates made at test time (EC P-256, valid for a day), so that no private key is
 * ever committed. A CA issues server certificates with subject alternative names and client
 * certificates whose subject CN names a gateway group.
 */
public final class GeneratedCertificates {

  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  private GeneratedCertificates() {}

  /** A certificate and its key. */
  public record Issued(X509Certificate certificate, KeyPair keys) {

    public String certificatePem() {
      return pem("CERTIFICATE", encoded());
    }

    /** PKCS#8, unencrypted, as {@code openssl genpkey} writes it. */
    public String keyPem() {
      return pem("PRIVATE KEY", keys.getPrivate().getEncoded());
    }

    /** Writes {@code <name>.pem} and {@code <name>.key} in {@code dir}; returns the .pem path. */
    public Path write(Path dir, String name) {
      try {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(name + ".key"), keyPem(), StandardCharsets.US_ASCII);
        return Files.writeString(
            dir.resolve(name + ".pem"), certificatePem(), StandardCharsets.US_ASCII);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private byte[] encoded() {
      try {
        return certificate.getEncoded();
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** A self-signed CA. */
  public static final class Ca {

    private final Issued self;

    private Ca(Issued self) {
      this.self = self;
    }

    public Issued certificate() {
      return self;
    }

    /** Writes the CA's certificate (not its key) as {@code <name>.pem}; returns the path. */
    public Path writeCertificate(Path dir, String name) {
      try {
        Files.createDirectories(dir);
        return Files.writeString(
            dir.resolve(name + ".pem"), self.certificatePem(), StandardCharsets.US_ASCII);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** A server certificate for {@code names}: IP addresses or DNS names. */
    public Issued server(String commonName, String... names) {
      return issue(commonName, List.of(names));
    }

    /** A client certificate: {@code CN=<group>} names the gateway group of a data plane. */
    public Issued client(String group) {
      return issue(group, List.of());
    }

    private Issued issue(String commonName, List<String> names) {
      KeyPair keys = keyPair();
      try {
        X509v3CertificateBuilder builder = builder(self.certificate(), commonName, keys);
        if (!names.isEmpty()) {
          List<GeneralName> sans = new ArrayList<>();
          for (String name : names) {
            sans.add(
                new GeneralName(
                    name.matches("[0-9.]+") ? GeneralName.iPAddress : GeneralName.dNSName, name));
          }
          builder.addExtension(
              Extension.subjectAlternativeName,
              false,
              new GeneralNames(sans.toArray(GeneralName[]::new)));
        }
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        return new Issued(sign(builder, self.keys()), keys);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** A new CA named {@code CN=<name>}. */
  public static Ca ca(String name) {
    KeyPair keys = keyPair();
    try {
      X509v3CertificateBuilder builder = builder(null, name, keys);
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      return new Ca(new Issued(sign(builder, keys), keys));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static X509v3CertificateBuilder builder(
      X509Certificate issuer, String commonName, KeyPair keys) {
    Instant now = Instant.now();
    X500Name subject = new X500Name("CN=" + commonName);
    return new JcaX509v3CertificateBuilder(
        issuer == null
            ? subject
            : X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded()),
        BigInteger.valueOf(SERIAL.incrementAndGet()),
        Date.from(now.minus(Duration.ofMinutes(5))),
        Date.from(now.plus(Duration.ofDays(1))),
        subject,
        keys.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer) {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(
              builder.build(
                  new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
    } catch (OperatorCreationException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static KeyPair keyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String pem(String label, byte[] der) {
    return "-----BEGIN "
        + label
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + label
        + "-----\n";
  }
}
