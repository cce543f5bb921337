package io.ballast.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.resource.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

class SnapshotSignatureTest {

  // RFC 8410, section 10.3 (private) and 10.1 (its public key): a published test vector.
  private static final String RFC_PRIVATE =
      "-----BEGIN PRIVATE KEY-----\n"
          + "MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n"
          + "-----END PRIVATE KEY-----\n";
  private static final String RFC_PUBLIC =
      "-----BEGIN PUBLIC KEY-----\n"
          + "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
          + "-----END PUBLIC KEY-----\n";

  private final SnapshotSigner signer = new SnapshotSigner(SigningKeys.generate());
  private final SnapshotSigner otherSigner = new SnapshotSigner(SigningKeys.generate());
  private final ExportManifest manifest = ExportManifestTest.export(42, 3);

  @Test
  void aGoodSignatureVerifiesAndNamesItsKey() {
    SignedExport signed = signer.sign(manifest);

    SignedExport verified =
        SignatureVerifier.trusting(List.of(signer.publicKey())).verify(signed.json());

    assertThat(verified.manifest()).isEqualTo(manifest);
    assertThat(verified.keyId()).contains(signer.keyId());
    assertThat(verified.json()).isEqualTo(signed.json());
    assertThat(signer.keyId()).matches("[0-9a-f]{16}");
    ObjectNode signature = (ObjectNode) Json.mapper().readTree(signed.json()).get("signature");
    assertThat(signature.get("alg").stringValue()).isEqualTo("Ed25519");
    assertThat(signature.get("key_id").stringValue()).isEqualTo(signer.keyId());
  }

  @Test
  void aTamperedManifestIsRefused() {
    ObjectNode node = (ObjectNode) Json.mapper().readTree(signer.sign(manifest).json());
    node.put("version", 43);
    ((ObjectNode) node.get("parts").get("resources")).put("version", 43);
    ((ObjectNode) node.get("parts").get("instance")).put("version", 43);
    byte[] tampered = Json.mapper().writeValueAsBytes(node);

    assertThatThrownBy(
            () -> SignatureVerifier.trusting(List.of(signer.publicKey())).verify(tampered))
        .isInstanceOf(SnapshotIntegrityException.class)
        .hasMessageContaining("bad signature");
  }

  @Test
  void addedKeysAreCoveredToo() {
    ObjectNode node = (ObjectNode) Json.mapper().readTree(signer.sign(manifest).json());
    node.put("shrink_confirmed", true);

    assertThatThrownBy(
            () ->
                SignatureVerifier.trusting(List.of(signer.publicKey()))
                    .verify(Json.mapper().writeValueAsBytes(node)))
        .isInstanceOf(SnapshotIntegrityException.class)
        .hasMessageContaining("bad signature");
  }

  @Test
  void anUnsignedManifestIsRefusedOnlyWhenKeysAreTrusted() {
    byte[] unsigned = manifest.toJson();

    assertThatThrownBy(
            () -> SignatureVerifier.trusting(List.of(signer.publicKey())).verify(unsigned))
        .isInstanceOf(SnapshotIntegrityException.class)
        .hasMessageEndingWith("unsigned");
    SignedExport accepted = SignatureVerifier.notRequired().verify(unsigned);
    assertThat(accepted.manifest()).isEqualTo(manifest);
    assertThat(accepted.signed()).isFalse();
    assertThat(SignatureVerifier.notRequired().required()).isFalse();
  }

  @Test
  void aKeyNotTrustedIsRefusedByItsId() {
    byte[] json = otherSigner.sign(manifest).json();

    assertThatThrownBy(() -> SignatureVerifier.trusting(List.of(signer.publicKey())).verify(json))
        .isInstanceOf(SnapshotIntegrityException.class)
        .hasMessageContaining("key " + otherSigner.keyId() + ", which is not trusted");
  }

  @Test
  void twoTrustedKeysAcceptEitherForRotation() {
    SignatureVerifier verifier =
        SignatureVerifier.trusting(List.of(signer.publicKey(), otherSigner.publicKey()));

    assertThat(verifier.verify(signer.sign(manifest).json()).keyId()).contains(signer.keyId());
    assertThat(verifier.verify(otherSigner.sign(manifest).json()).keyId())
        .contains(otherSigner.keyId());
    assertThat(verifier.trustedKeyIds())
        .containsExactlyInAnyOrder(signer.keyId(), otherSigner.keyId());
  }

  @Test
  void aSignatureFromAnotherKeyUnderATrustedIdIsBad() {
    ObjectNode node = (ObjectNode) Json.mapper().readTree(otherSigner.sign(manifest).json());
    ((ObjectNode) node.get("signature")).put("key_id", signer.keyId());

    assertThatThrownBy(
            () ->
                SignatureVerifier.trusting(List.of(signer.publicKey()))
                    .verify(Json.mapper().writeValueAsBytes(node)))
        .isInstanceOf(SnapshotIntegrityException.class)
        .hasMessageContaining("bad signature");
  }

  @Test
  void unknownKeysAddedByALaterProducerAreCoveredAndKept() throws Exception {
    KeyPair keys = SigningKeys.generate();
    String keyId = SigningKeys.keyId(keys.getPublic());
    ObjectNode node = manifest.toNode();
    node.put("future_key", "x");
    // What a later producer signs: its whole object, the key this build does not know included.
    Signature ed25519 = Signature.getInstance("Ed25519");
    ed25519.initSign(keys.getPrivate());
    ed25519.update(Json.mapper().writeValueAsBytes(node));
    ObjectNode signature = node.putObject("signature");
    signature.put("alg", "Ed25519");
    signature.put("key_id", keyId);
    signature.put("value", Base64.getEncoder().encodeToString(ed25519.sign()));
    byte[] json = Json.mapper().writeValueAsBytes(node);
    SignatureVerifier verifier = SignatureVerifier.trusting(List.of(keys.getPublic()));

    SignedExport verified = verifier.verify(json);

    assertThat(verified.manifest()).isEqualTo(manifest);
    assertThat(new String(verified.json(), StandardCharsets.UTF_8)).contains("future_key");
    node.put("future_key", "y");
    assertThatThrownBy(() -> verifier.verify(Json.mapper().writeValueAsBytes(node)))
        .hasMessageContaining("bad signature");
  }

  @Test
  void readsAnOpensslKeyAndDerivesItsPublicKey(@TempDir Path dir) throws Exception {
    Path privateFile = Files.writeString(dir.resolve("cp.pem"), RFC_PRIVATE);
    Path publicFile = Files.writeString(dir.resolve("cp.pub.pem"), RFC_PUBLIC);

    SnapshotSigner fromFile = SnapshotSigner.loadOrGenerate(privateFile, dir.resolve("unused"));
    PublicKey expected = SigningKeys.readPublicKey(publicFile);

    assertThat(fromFile.publicKey().getEncoded()).isEqualTo(expected.getEncoded());
    assertThat(fromFile.keyId()).isEqualTo(SigningKeys.keyId(expected));
    assertThat(SignatureVerifier.trusting(List.of(expected)).verify(fromFile.sign(manifest).json()))
        .isNotNull();
    assertThat(dir.resolve("unused")).doesNotExist();
  }

  @Test
  void generatesAKeyOnceWithItsPublicKeyBeside(@TempDir Path dir) throws Exception {
    Path signing = dir.resolve("signing");

    SnapshotSigner first = SnapshotSigner.loadOrGenerate(null, signing);
    SnapshotSigner again = SnapshotSigner.loadOrGenerate(null, signing);

    assertThat(again.keyId()).isEqualTo(first.keyId());
    Path key = signing.resolve(SnapshotSigner.GENERATED_KEY);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key)))
        .isEqualTo("rw-------");
    PublicKey published = SigningKeys.readPublicKey(signing.resolve("snapshot-signing.pub.pem"));
    assertThat(SigningKeys.keyId(published)).isEqualTo(first.keyId());
  }

  @Test
  void keyFilesThatCannotBeUsedAreNamed(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("missing.pem");
    Path publicAsPrivate = Files.writeString(dir.resolve("pub.pem"), RFC_PUBLIC);
    Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a key");

    assertThatThrownBy(() -> SnapshotSigner.loadOrGenerate(missing, dir))
        .isInstanceOf(SigningKeys.InvalidSigningKeyException.class)
        .hasMessage(missing + ": no such file");
    assertThatThrownBy(() -> SnapshotSigner.loadOrGenerate(publicAsPrivate, dir))
        .hasMessageContaining(publicAsPrivate + ": expected a PEM 'PRIVATE KEY'")
        .hasMessageContaining("found 'PUBLIC KEY'");
    assertThatThrownBy(() -> SigningKeys.readPublicKey(garbage))
        .hasMessageStartingWith(garbage + ": expected a PEM 'PUBLIC KEY'");
  }
}
