package io.ballast.resource;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * An IPv4 or IPv6 address or CIDR block, as APISIX's {@code remote_addrs} takes them: {@code
 * 10.0.0.1}, {@code 10.0.0.0/8}, {@code ::1}, {@code fe80::/16}. Parsed from literals only, never
 * through DNS. An IPv4 block never matches an IPv6 client and the other way round, except that an
 * IPv4-mapped IPv6 client ({@code ::ffff:a.b.c.d}) is compared as IPv4.
 *
 * <p>One parser for the Admin API's validation and the data plane's route table, so that both
 * accept exactly the same blocks.
 */
public final class Cidr {

  private final byte[] network;
  private final int prefixBits;

  private Cidr(byte[] network, int prefixBits) {
    this.network = network;
    this.prefixBits = prefixBits;
  }

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException saying what is wrong with it
   */
  public static Cidr parse(String text) {
    int slash = text.indexOf('/');
    String address = slash < 0 ? text : text.substring(0, slash);
    byte[] bytes = literal(address);
    if (bytes == null) {
      throw new IllegalArgumentException("'" + text + "' is not an IPv4 or IPv6 address or CIDR");
    }
    // An IPv4-mapped literal (::ffff:a.b.c.d) is matched as IPv4, its prefix counted in IPv6 bits.
    boolean mapped = bytes.length == 4 && address.indexOf(':') >= 0;
    int minBits = mapped ? 96 : 0;
    int maxBits = mapped ? 128 : bytes.length * 8;
    int bits = maxBits;
    if (slash >= 0) {
      String suffix = text.substring(slash + 1);
      if (!suffix.matches("[0-9]{1,3}")
          || Integer.parseInt(suffix) > maxBits
          || Integer.parseInt(suffix) < minBits) {
        throw new IllegalArgumentException(
            "'" + text + "' has a prefix length that is not " + minBits + " to " + maxBits);
      }
      bits = Integer.parseInt(suffix);
    }
    bits -= minBits;
    return new Cidr(masked(bytes, bits), bits);
  }

  public boolean matches(InetAddress client) {
    if (client == null) {
      return false;
    }
    byte[] bytes = client.getAddress();
    if (bytes.length != network.length) {
      return false;
    }
    int full = prefixBits / 8;
    for (int i = 0; i < full; i++) {
      if (bytes[i] != network[i]) {
        return false;
      }
    }
    int rest = prefixBits % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return (bytes[full] & mask) == (network[full] & 0xff);
  }

  private static byte[] masked(byte[] bytes, int bits) {
    byte[] copy = Arrays.copyOf(bytes, bytes.length);
    for (int i = 0; i < copy.length; i++) {
      int keep = Math.max(0, Math.min(8, bits - i * 8));
      copy[i] = (byte) (copy[i] & ((0xff << (8 - keep)) & 0xff));
    }
    return copy;
  }

  /** The address bytes of an IPv4 or IPv6 literal (4 or 16), or {@code null}. */
  private static byte[] literal(String text) {
    if (text.indexOf(':') < 0) {
      return ipv4(text);
    }
    // Only hex digits, ':' and '.' (an embedded IPv4 tail): InetAddress then parses the literal
    // itself and never asks DNS.
    if (!text.matches("[0-9A-Fa-f:.]+")) {
      return null;
    }
    try {
      // An IPv4-mapped literal (::ffff:a.b.c.d) comes back as the IPv4 address, as clients do.
      return InetAddress.getByName(text).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static byte[] ipv4(String text) {
    String[] parts = text.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    byte[] bytes = new byte[4];
    for (int i = 0; i < 4; i++) {
      if (!parts[i].matches("[0-9]{1,3}") || Integer.parseInt(parts[i]) > 255) {
        return null;
      }
      bytes[i] = (byte) Integer.parseInt(parts[i]);
    }
    return bytes;
  }

  @Override
  public String toString() {
    try {
      return InetAddress.getByAddress(network).getHostAddress() + "/" + prefixBits;
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }
}
