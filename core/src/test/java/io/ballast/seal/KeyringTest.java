package io.ballast.seal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class KeyringTest {

  private static final Keyring KEYRING =
      Keyring.of(List.of("first-entry-0123456", "older-entry-0123456"));

  @Test
  void sealsWithARandomNonceAndOpensWithTheFirstEntry() {
    String a = KEYRING.seal("alice-secret-key");
    String b = KEYRING.seal("alice-secret-key");

    assertThat(a).startsWith(Keyring.PREFIX).doesNotContain("alice-secret-key");
    assertThat(a).isNotEqualTo(b);
    assertThat(Keyring.isSealed(a)).isTrue();
    assertThat(Keyring.isSealed("alice-secret-key")).isFalse();
    assertThat(KEYRING.open(a)).contains(new Keyring.Opened(0, "alice-secret-key"));
    assertThat(KEYRING.open(b)).contains(new Keyring.Opened(0, "alice-secret-key"));
  }

  @Test
  void anOlderEntryStillOpensWhatItSealed() {
    String sealedBefore = Keyring.of(List.of("older-entry-0123456")).seal("s3cr3t");

    assertThat(KEYRING.open(sealedBefore)).contains(new Keyring.Opened(1, "s3cr3t"));
  }

  @Test
  void anotherKeyringOrAnAlteredValueDoesNotOpen() {
    String sealed = KEYRING.seal("s3cr3t");
    Keyring other = Keyring.of(List.of("someone-elses-key-01"));

    assertThat(other.open(sealed)).isEmpty();
    char last = sealed.charAt(sealed.length() - 2);
    String altered =
        sealed.substring(0, sealed.length() - 2)
            + (last == 'A' ? 'B' : 'A')
            + sealed.charAt(sealed.length() - 1);
    assertThat(KEYRING.open(altered)).isEmpty();
    assertThat(KEYRING.open(Keyring.PREFIX + "not*base64")).isEmpty();
    assertThat(KEYRING.open(Keyring.PREFIX + "AAAA")).isEmpty();
    assertThatThrownBy(() -> KEYRING.open("plain")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void neverPrintsItsEntries() {
    assertThat(KEYRING.toString()).isEqualTo("Keyring[2 entries]");
  }
}
