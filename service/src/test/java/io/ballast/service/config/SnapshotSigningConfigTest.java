package io.ballast.service.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigLoader;
import io.ballast.snapshot.SigningKeys;
import io.ballast.snapshot.SnapshotSigner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotSigningConfigTest {

  @TempDir Path dir;

  private SnapshotSigningConfig parse(String block) {
    Path file = dir.resolve("conf/config.yaml");
    String yaml = "ballast:\n  snapshot_signing:\n" + block.indent(4);
    return SnapshotSigningConfig.parse(
        ConfigLoader.parse(yaml, file.toString(), Map.<String, String>of()::get)
            .child("ballast")
            .orElseThrow()
            .child("snapshot_signing")
            .orElseThrow());
  }

  private Path keys(String name) throws Exception {
    Files.createDirectories(dir.resolve("conf"));
    KeyPair pair = SigningKeys.generate();
    SigningKeys.writePrivateKey(pair.getPrivate(), dir.resolve("conf/" + name + ".pem"));
    Path pub = dir.resolve("conf/" + name + ".pub.pem");
    SigningKeys.writePublicKey(pair.getPublic(), pub);
    return pub;
  }

  @Test
  void withoutKeysTheCpGeneratesOneAndTheDpChecksNothing() throws Exception {
    SnapshotSigningConfig none = SnapshotSigningConfig.NONE;

    SnapshotSigner signer = none.signer(dir.resolve("data"));

    assertThat(dir.resolve("data/signing/" + SnapshotSigner.GENERATED_KEY)).exists();
    assertThat(none.verifier(Optional.empty()).required()).isFalse();
    // A traditional node trusts its own key only beside configured ones.
    assertThat(none.verifier(Optional.of(signer.publicKey())).required()).isFalse();
  }

  @Test
  void readsThePrivateKeyAndSeveralTrustedKeysFromTheFilesFolder() throws Exception {
    Path cp2026 = keys("cp-2026");
    Path cp2027 = keys("cp-2027");

    SnapshotSigningConfig config =
        parse(
            "private_key: cp-2026.pem\ntrusted_keys: [cp-2026.pub.pem, "
                + cp2027.getFileName()
                + "]\n");

    SnapshotSigner signer = config.signer(dir.resolve("data"));
    assertThat(signer.keyId()).isEqualTo(SigningKeys.keyId(SigningKeys.readPublicKey(cp2026)));
    assertThat(config.trustedKeys()).hasSize(2);
    assertThat(config.verifier(Optional.empty()).trustedKeyIds())
        .containsExactlyInAnyOrder(
            SigningKeys.keyId(SigningKeys.readPublicKey(cp2026)),
            SigningKeys.keyId(SigningKeys.readPublicKey(cp2027)));
    assertThat(dir.resolve("data/signing")).doesNotExist();
  }

  @Test
  void errorsNameTheKeyPathAndTheFile() throws Exception {
    Path pub = keys("cp");

    assertThatThrownBy(() -> parse("trusted_keys: [missing.pub.pem]\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("ballast.snapshot_signing.trusted_keys[0]")
        .hasMessageContaining("missing.pub.pem: no such file");
    assertThatThrownBy(() -> parse("private_key: " + pub.getFileName() + "\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("ballast.snapshot_signing.private_key")
        .hasMessageContaining("expected a PEM 'PRIVATE KEY'");
    assertThatThrownBy(() -> parse("trusted_key: [x]\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("ballast.snapshot_signing.trusted_key")
        .hasMessageContaining("did you mean");
  }
}
