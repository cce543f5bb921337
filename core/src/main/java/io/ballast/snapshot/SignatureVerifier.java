package io.ballast.snapshot;

import io.ballast.resource.Json;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The data plane's side of signed exports. With trusted keys configured, an export manifest is
 * accepted only when signed by one of them, whichever source it came from (CP, storage, local
 * cache); several keys allow rotation. Without, every well-formed manifest is accepted.
 */
public final class SignatureVerifier {

  private static final SignatureVerifier NOT_REQUIRED = new SignatureVerifier(Map.of());

  private final Map<String, PublicKey> trusted;

  private SignatureVerifier(Map<String, PublicKey> trusted) {
    this.trusted = trusted;
  }

  /** Accepts only exports signed by one of {@code keys}; at least one key. */
  public static SignatureVerifier trusting(List<PublicKey> keys) {
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("a verifier needs at least one trusted key");
    }
    Map<String, PublicKey> byId = new LinkedHashMap<>();
    for (PublicKey key : keys) {
      if (!SigningKeys.ALGORITHM.equals(key.getAlgorithm())
          && !"EdDSA".equals(key.getAlgorithm())) {
        throw new IllegalArgumentException(
            "trusted key "
                + SigningKeys.keyId(key)
                + " is "
                + key.getAlgorithm()
                + ", not Ed25519");
      }
      byId.put(SigningKeys.keyId(key), key);
    }
    return new SignatureVerifier(Map.copyOf(byId));
  }

  /** No trusted keys configured: signatures are not checked. */
  public static SignatureVerifier notRequired() {
    return NOT_REQUIRED;
  }

  public boolean required() {
    return !trusted.isEmpty();
  }

  /** The ids of the trusted keys, for status and logs. */
  public List<String> trustedKeyIds() {
    return List.copyOf(trusted.keySet());
  }

  /**
   * Parses an export manifest and checks its signature.
   *
   * @throws SnapshotFormatException when it is not a format-2 manifest, naming the key
   * @throws SnapshotIntegrityException when keys are trusted and it is unsigned, signed by a key
   *     not trusted, or its signature does not match
   */
  public SignedExport verify(byte[] json) {
    ObjectNode node = ExportManifest.readObject(json);
    ExportManifest manifest = ExportManifest.fromNode(node);
    JsonNode signature = node.get(ExportManifest.SIGNATURE);
    if (signature == null) {
      if (required()) {
        throw new SnapshotIntegrityException(
            "export " + manifest.version() + " is refused: its manifest is unsigned");
      }
      return new SignedExport(manifest, json, Optional.empty());
    }
    String alg = text(signature, "alg");
    String keyId = text(signature, "key_id");
    String value = text(signature, "value");
    if (!SigningKeys.ALGORITHM.equals(alg)) {
      throw new SnapshotFormatException(
          "export manifest key 'signature.alg' '" + alg + "' is not supported (only Ed25519)");
    }
    if (!required()) {
      return new SignedExport(manifest, json, Optional.of(keyId));
    }
    PublicKey key = trusted.get(keyId);
    if (key == null) {
      throw new SnapshotIntegrityException(
          "export "
              + manifest.version()
              + " is refused: it is signed by key "
              + keyId
              + ", which is not trusted (trusted: "
              + String.join(", ", trusted.keySet())
              + ")");
    }
    byte[] signatureBytes;
    try {
      signatureBytes = Base64.getDecoder().decode(value);
    } catch (IllegalArgumentException e) {
      throw new SnapshotIntegrityException(
          "export " + manifest.version() + " is refused: bad signature (not base64)");
    }
    node.remove(ExportManifest.SIGNATURE);
    byte[] covered = Json.mapper().writeValueAsBytes(node);
    if (!matches(key, covered, signatureBytes)) {
      throw new SnapshotIntegrityException(
          "export "
              + manifest.version()
              + " is refused: bad signature (key "
              + keyId
              + "); the manifest was changed after signing");
    }
    return new SignedExport(manifest, json, Optional.of(keyId));
  }

  private static boolean matches(PublicKey key, byte[] covered, byte[] signature) {
    try {
      Signature ed25519 = Signature.getInstance(SigningKeys.ALGORITHM);
      ed25519.initVerify(key);
      ed25519.update(covered);
      return ed25519.verify(signature);
    } catch (java.security.SignatureException e) {
      return false; // a malformed signature is a bad one
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("verifying an export signature failed", e);
    }
  }

  private static String text(JsonNode signature, String key) {
    JsonNode value = signature.isObject() ? signature.get(key) : null;
    if (value == null || !value.isString() || value.stringValue().isEmpty()) {
      throw new SnapshotFormatException(
          "export manifest key 'signature." + key + "' is missing or not a non-empty string");
    }
    return value.stringValue();
  }
}
