package io.ballast.snapshot;

import io.ballast.fs.PrivateFiles;
import io.ballast.resource.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The control plane's side of signed exports: signs each export manifest with Ed25519. The
 * signature covers the manifest's JSON without its {@code signature} key, as the project's mapper
 * writes it (compact, keys sorted), which is what {@link SignatureVerifier} recomputes.
 */
public final class SnapshotSigner {

  /** The file name of a generated key; its public key is written beside it as {@code .pub.pem}. */
  public static final String GENERATED_KEY = "snapshot-signing.pem";

  public static final String GENERATED_PUBLIC_KEY = "snapshot-signing.pub.pem";

  private static final Logger log = LoggerFactory.getLogger(SnapshotSigner.class);

  private final KeyPair keys;
  private final String keyId;

  public SnapshotSigner(KeyPair keys) {
    this.keys = Objects.requireNonNull(keys, "keys");
    this.keyId = SigningKeys.keyId(keys.getPublic());
  }

  /**
   * The key in {@code privateKeyPem} when given; otherwise the key generated once in {@code
   * generatedDir} ({@value #GENERATED_KEY}, 0600, with {@value #GENERATED_PUBLIC_KEY} beside it),
   * generating it on the first call. Logs the key id, never the key.
   *
   * @param privateKeyPem a PKCS#8 PEM Ed25519 private key, or {@code null} for the generated one
   * @throws SigningKeys.InvalidSigningKeyException naming the file that cannot be used
   */
  public static SnapshotSigner loadOrGenerate(Path privateKeyPem, Path generatedDir) {
    if (privateKeyPem != null) {
      SnapshotSigner signer = new SnapshotSigner(SigningKeys.readPrivateKey(privateKeyPem));
      log.info("signing exports with key {} from {}", signer.keyId(), privateKeyPem);
      return signer;
    }
    Path keyFile = generatedDir.resolve(GENERATED_KEY);
    Path publicFile = generatedDir.resolve(GENERATED_PUBLIC_KEY);
    try {
      if (Files.exists(keyFile)) {
        SnapshotSigner signer = new SnapshotSigner(SigningKeys.readPrivateKey(keyFile));
        if (!Files.exists(publicFile)) {
          SigningKeys.writePublicKey(signer.publicKey(), publicFile);
        }
        log.info("signing exports with key {} from {}", signer.keyId(), keyFile);
        return signer;
      }
      PrivateFiles.createFolder(generatedDir);
      KeyPair keys = SigningKeys.generate();
      // Written under a temporary name and moved, so a crash never leaves half a key behind.
      Path partial = generatedDir.resolve(GENERATED_KEY + ".tmp");
      Files.deleteIfExists(partial);
      SigningKeys.writePrivateKey(keys.getPrivate(), partial);
      Files.move(partial, keyFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      SigningKeys.writePublicKey(keys.getPublic(), publicFile);
      SnapshotSigner signer = new SnapshotSigner(keys);
      log.info(
          "generated export signing key {} in {}; give data planes {} as a trusted key",
          signer.keyId(),
          keyFile,
          publicFile);
      return signer;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the signing key in " + generatedDir, e);
    }
  }

  /** The manifest's JSON with its signature: the bytes a pointer and the conf server carry. */
  public SignedExport sign(ExportManifest manifest) {
    ObjectNode node = manifest.toNode();
    byte[] covered = Json.mapper().writeValueAsBytes(node);
    byte[] signature;
    try {
      Signature ed25519 = Signature.getInstance(SigningKeys.ALGORITHM);
      ed25519.initSign(keys.getPrivate());
      ed25519.update(covered);
      signature = ed25519.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("signing an export failed", e);
    }
    ObjectNode signatureNode = node.putObject(ExportManifest.SIGNATURE);
    signatureNode.put("alg", SigningKeys.ALGORITHM);
    signatureNode.put("key_id", keyId);
    signatureNode.put("value", Base64.getEncoder().encodeToString(signature));
    return new SignedExport(manifest, Json.mapper().writeValueAsBytes(node), Optional.of(keyId));
  }

  public String keyId() {
    return keyId;
  }

  public PublicKey publicKey() {
    return keys.getPublic();
  }
}
