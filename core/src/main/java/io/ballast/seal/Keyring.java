package io.ballast.seal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * APISIX's {@code apisix.data_encryption.keyring}: the first entry seals, every entry is tried to
 * open, so a key can be rotated by putting the new one first and keeping the old ones after it.
 *
 * <p>Unlike APISIX (AES-CBC with the key as IV: the same secret always gives the same ciphertext,
 * and a changed ciphertext is not detected), a value is sealed with AES-256-GCM under a random
 * 96-bit nonce, with a key derived from the entry by HMAC-SHA256, and written as {@link #PREFIX}
 * followed by base64url(nonce, ciphertext, tag). The prefix tells a sealed value from a plain one;
 * the tag makes a value sealed under another keyring, or altered, fail to open instead of opening
 * to garbage.
 */
public final class Keyring {

  /** What every sealed value starts with; {@code v1} names the scheme above. */
  public static final String PREFIX = "$ballast$sealed$v1$";

  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final byte[] DERIVATION_LABEL =
      "ballast apisix.data_encryption v1".getBytes(StandardCharsets.UTF_8);
  private static final byte[] ASSOCIATED_DATA = PREFIX.getBytes(StandardCharsets.UTF_8);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final List<SecretKey> keys;

  private Keyring(List<SecretKey> keys) {
    this.keys = keys;
  }

  /**
   * @param entries the keyring as configured, at least one; the first seals
   */
  public static Keyring of(List<String> entries) {
    if (entries.isEmpty()) {
      throw new IllegalArgumentException("a keyring needs at least one entry");
    }
    List<SecretKey> keys = new ArrayList<>();
    for (String entry : entries) {
      keys.add(derive(entry));
    }
    return new Keyring(List.copyOf(keys));
  }

  /** Whether {@code value} is in the sealed form (whether or not this keyring opens it). */
  public static boolean isSealed(String value) {
    return value.startsWith(PREFIX);
  }

  /** {@code plaintext} sealed with the first entry; a new nonce each time. */
  public String seal(String plaintext) {
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    try {
      Cipher cipher = cipher(Cipher.ENCRYPT_MODE, keys.get(0), nonce);
      byte[] sealed = cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
      ByteBuffer out = ByteBuffer.allocate(NONCE_BYTES + sealed.length);
      out.put(nonce).put(sealed);
      return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(out.array());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available in this JVM", e);
    }
  }

  /** A sealed value opened: which entry opened it and the plaintext. */
  public record Opened(int entry, String plaintext) {}

  /**
   * Opens a sealed value with the first entry that can.
   *
   * @return empty when no entry opens it (another keyring, or the value was altered)
   * @throws IllegalArgumentException when {@code sealed} is not in the sealed form
   */
  public Optional<Opened> open(String sealed) {
    if (!isSealed(sealed)) {
      throw new IllegalArgumentException("not a sealed value");
    }
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(sealed.substring(PREFIX.length()));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    if (bytes.length < NONCE_BYTES + TAG_BITS / 8) {
      return Optional.empty();
    }
    byte[] nonce = Arrays.copyOf(bytes, NONCE_BYTES);
    for (int i = 0; i < keys.size(); i++) {
      try {
        Cipher cipher = cipher(Cipher.DECRYPT_MODE, keys.get(i), nonce);
        byte[] plain = cipher.doFinal(bytes, NONCE_BYTES, bytes.length - NONCE_BYTES);
        return Optional.of(new Opened(i, new String(plain, StandardCharsets.UTF_8)));
      } catch (AEADBadTagException e) {
        // not this entry's: try the next
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("AES-GCM is not available in this JVM", e);
      }
    }
    return Optional.empty();
  }

  private static Cipher cipher(int mode, SecretKey key, byte[] nonce)
      throws GeneralSecurityException {
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
    cipher.updateAAD(ASSOCIATED_DATA);
    return cipher;
  }

  /**
   * An AES-256 key from a keyring entry: HMAC-SHA256 keyed by the entry over a fixed label, so any
   * entry length gives a full-size key and the key is never the entry itself.
   */
  private static SecretKey derive(String entry) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(entry.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return new SecretKeySpec(mac.doFinal(DERIVATION_LABEL), "AES");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
    }
  }

  /** Never the entries. */
  @Override
  public String toString() {
    return "Keyring[" + keys.size() + " entries]";
  }
}
