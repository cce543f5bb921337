package io.ballast.service.config;

import io.ballast.config.ConfigNode;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SigningKeys;
import io.ballast.snapshot.SnapshotSigner;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code ballast.snapshot_signing}, Ballast's keys for signed exports (APISIX has none):
 *
 * <pre>{@code
 * ballast:
 *   snapshot_signing:
 *     private_key: conf/snapshot-signing.pem    # CP; default: generated in <data_dir>/signing/
 *     trusted_keys: [conf/cp-2026.pub.pem]      # DP; several for rotation
 * }</pre>
 *
 * A control plane signs every export; a data plane with trusted keys refuses any export not signed
 * by one of them, from every source. Paths are taken from the node file's folder.
 *
 * @param privateKey the CP's Ed25519 private key (PKCS#8 PEM); empty: generate one in the data dir
 * @param trustedKeys the public keys (PEM) a DP accepts exports from; empty: signatures not checked
 */
public record SnapshotSigningConfig(Optional<Path> privateKey, List<PublicKey> trustedKeys) {

  public static final SnapshotSigningConfig NONE =
      new SnapshotSigningConfig(Optional.empty(), List.of());

  /** Where a generated key lives, under {@code ballast.data_dir}. */
  public static final String GENERATED_DIR = "signing";

  static SnapshotSigningConfig parse(ConfigNode signing) {
    signing.rejectUnknownKeys(Set.of("private_key", "trusted_keys"));
    Optional<Path> privateKey = PemPaths.optional(signing, "private_key");
    privateKey.ifPresent(
        path -> readable(signing, "private_key", () -> SigningKeys.readPrivateKey(path)));
    List<PublicKey> trusted = new ArrayList<>();
    List<Object> given = signing.list("trusted_keys");
    Path folder = Path.of(signing.file()).toAbsolutePath().normalize().getParent();
    for (int i = 0; i < given.size(); i++) {
      String key = "trusted_keys[" + i + "]";
      Object value = given.get(i);
      if (!(value instanceof String text) || text.isBlank()) {
        throw signing.error(key, "must be the path of a PEM public key");
      }
      Path path = folder.resolve(text.trim()).normalize();
      trusted.add(readable(signing, key, () -> SigningKeys.readPublicKey(path)));
    }
    return new SnapshotSigningConfig(privateKey, List.copyOf(trusted));
  }

  /** The CP's signer: the configured key, or the one generated once under {@code dataDir}. */
  public SnapshotSigner signer(Path dataDir) {
    return SnapshotSigner.loadOrGenerate(privateKey.orElse(null), dataDir.resolve(GENERATED_DIR));
  }

  /**
   * The DP's verifier: the trusted keys, plus {@code ownKey} (a traditional node trusts its own
   * CP); not required when no key is configured.
   */
  public SignatureVerifier verifier(Optional<PublicKey> ownKey) {
    if (trustedKeys.isEmpty()) {
      return SignatureVerifier.notRequired();
    }
    List<PublicKey> keys = new ArrayList<>(trustedKeys);
    ownKey.ifPresent(keys::add);
    return SignatureVerifier.trusting(keys);
  }

  private static <T> T readable(ConfigNode node, String key, java.util.function.Supplier<T> read) {
    try {
      return read.get();
    } catch (SigningKeys.InvalidSigningKeyException e) {
      // The message names the file and the problem, never a byte of the key.
      throw node.error(key, e.getMessage());
    }
  }
}
