package io.ballast.snapshot;

import io.ballast.fs.PrivateFiles;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.HexFormat;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * Ed25519 keys for signing exports, as PEM files: private keys as unencrypted PKCS#8 ({@code BEGIN
 * PRIVATE KEY}, what {@code openssl genpkey -algorithm ed25519} writes), public keys as X.509
 * ({@code BEGIN PUBLIC KEY}, {@code openssl pkey -pubout}). Messages name the file, never a byte of
 * a key.
 */
public final class SigningKeys {

  public static final String ALGORITHM = "Ed25519";

  private static final String PRIVATE_LABEL = "PRIVATE KEY";
  private static final String PUBLIC_LABEL = "PUBLIC KEY";
  // The X.509 SubjectPublicKeyInfo of an Ed25519 key before its 32 raw bytes (RFC 8410).
  private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

  private SigningKeys() {}

  /** A new key pair. */
  public static KeyPair generate() {
    try {
      return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no " + ALGORITHM, e);
    }
  }

  /**
   * The id a signature names its key by: the first 16 hex digits of the SHA-256 of the public key's
   * X.509 DER.
   */
  public static String keyId(PublicKey key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
      return HexFormat.of().formatHex(digest).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /**
   * The key pair of the private key in {@code file}: the JDK signs but cannot derive the public
   * key, BouncyCastle's Ed25519 does.
   *
   * @throws InvalidSigningKeyException when the file is missing, unreadable or not such a key
   */
  public static KeyPair readPrivateKey(Path file) {
    byte[] der = readPem(file, PRIVATE_LABEL, "openssl genpkey -algorithm ed25519");
    PrivateKey privateKey;
    try {
      privateKey = KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException e) {
      throw new InvalidSigningKeyException(file + ": not an Ed25519 private key");
    }
    byte[] raw =
        ((EdECPrivateKey) privateKey)
            .getBytes()
            .orElseThrow(() -> new InvalidSigningKeyException(file + ": key bytes not readable"));
    byte[] publicRaw = new Ed25519PrivateKeyParameters(raw, 0).generatePublicKey().getEncoded();
    byte[] spki = new byte[X509_PREFIX.length + publicRaw.length];
    System.arraycopy(X509_PREFIX, 0, spki, 0, X509_PREFIX.length);
    System.arraycopy(publicRaw, 0, spki, X509_PREFIX.length, publicRaw.length);
    return new KeyPair(publicKey(spki, file), privateKey);
  }

  /**
   * @throws InvalidSigningKeyException when the file is missing, unreadable or not an Ed25519
   *     public key
   */
  public static PublicKey readPublicKey(Path file) {
    return publicKey(readPem(file, PUBLIC_LABEL, "openssl pkey -pubout"), file);
  }

  /** Writes a private key readable by its owner only (0600). */
  public static void writePrivateKey(PrivateKey key, Path file) throws IOException {
    try (Writer out =
        new OutputStreamWriter(PrivateFiles.newOutputStream(file), StandardCharsets.US_ASCII)) {
      out.write(pem(PRIVATE_LABEL, key.getEncoded()));
    }
  }

  /**
   * Writes a public key. Owner-only like every file in a data folder, though it is no secret: an
   * operator copies it to the data planes' {@code trusted_keys}.
   */
  public static void writePublicKey(PublicKey key, Path file) throws IOException {
    try (Writer out =
        new OutputStreamWriter(PrivateFiles.newOutputStream(file), StandardCharsets.US_ASCII)) {
      out.write(publicKeyPem(key));
    }
  }

  public static String publicKeyPem(PublicKey key) {
    return pem(PUBLIC_LABEL, key.getEncoded());
  }

  private static PublicKey publicKey(byte[] der, Path file) {
    try {
      return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der));
    } catch (GeneralSecurityException e) {
      throw new InvalidSigningKeyException(file + ": not an Ed25519 public key");
    }
  }

  private static byte[] readPem(Path file, String label, String howToMake) {
    PemObject pem;
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PemReader reader = new PemReader(in)) {
      pem = reader.readPemObject();
    } catch (java.nio.file.NoSuchFileException e) {
      throw new InvalidSigningKeyException(file + ": no such file");
    } catch (IOException | RuntimeException e) {
      throw new InvalidSigningKeyException(file + ": not a PEM file");
    }
    if (pem == null || !pem.getType().equals(label)) {
      throw new InvalidSigningKeyException(
          file
              + ": expected a PEM '"
              + label
              + "' ("
              + howToMake
              + ")"
              + (pem == null ? "" : ", found '" + pem.getType() + "'"));
    }
    return pem.getContent();
  }

  private static String pem(String label, byte[] der) {
    StringWriter text = new StringWriter();
    try (PemWriter writer = new PemWriter(text)) {
      writer.writeObject(new PemObject(label, der));
    } catch (IOException e) {
      throw new IllegalStateException("writing PEM to memory failed", e);
    }
    return text.toString();
  }

  /** A key file is missing or not what it should be; the message names the file. */
  public static final class InvalidSigningKeyException extends RuntimeException {
    public InvalidSigningKeyException(String message) {
      super(message);
    }
  }
}
