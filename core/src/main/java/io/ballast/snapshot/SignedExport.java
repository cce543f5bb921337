package io.ballast.snapshot;

import java.util.Objects;
import java.util.Optional;

/**
 * An export manifest with the exact bytes it was read or written as ({@code latest.json} and the
 * conf server's answer carry these bytes unchanged), and the id of the key that signed it.
 *
 * @param keyId the signing key's id ({@link SigningKeys#keyId}); empty when unsigned. After {@link
 *     SignatureVerifier#verify} with trusted keys, the key that was checked; with {@link
 *     SignatureVerifier#notRequired()}, the key the manifest names, unchecked.
 */
public record SignedExport(ExportManifest manifest, byte[] json, Optional<String> keyId) {

  public SignedExport {
    Objects.requireNonNull(manifest, "manifest");
    Objects.requireNonNull(json, "json");
    Objects.requireNonNull(keyId, "keyId");
  }

  /** An unsigned export: what a data plane accepts only without trusted keys. */
  public static SignedExport unsigned(ExportManifest manifest) {
    return new SignedExport(manifest, manifest.toJson(), Optional.empty());
  }

  public long version() {
    return manifest.version();
  }

  public boolean signed() {
    return keyId.isPresent();
  }
}
