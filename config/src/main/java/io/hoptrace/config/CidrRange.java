package io.hoptrace.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.jspecify.annotations.Nullable;

/** An IPv4 or IPv6 address range such as {@code 10.0.0.0/8}. Immutable. */
public final class CidrRange {
  private final byte[] network;
  private final int prefix;
  private final String text;

  private CidrRange(byte[] network, int prefix, String text) {
    this.network = network;
    this.prefix = prefix;
    this.text = text;
  }

  /**
   * Parses {@code address/prefix} (or a bare address: a single host); null when malformed. Only
   * address literals are accepted, so parsing never resolves a name.
   */
  public static @Nullable CidrRange parse(String s) {
    int slash = s.indexOf('/');
    String address = slash < 0 ? s : s.substring(0, slash);
    if (address.isEmpty()) return null;
    for (int i = 0; i < address.length(); i++) {
      char c = address.charAt(i);
      boolean ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!ok && c != '.' && c != ':') return null;
    }
    if (address.indexOf(':') < 0 && address.chars().filter(c -> c == '.').count() != 3) {
      return null; // InetAddress would accept "10" or "10.1" as shorthand; a range must be explicit
    }
    byte[] bytes;
    try {
      bytes = InetAddress.getByName(address).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
    int bits = bytes.length * 8;
    int prefix = bits;
    if (slash >= 0) {
      try {
        prefix = Integer.parseInt(s.substring(slash + 1));
      } catch (NumberFormatException e) {
        return null;
      }
      if (prefix < 0 || prefix > bits) return null;
    }
    return new CidrRange(mask(bytes, prefix), prefix, s);
  }

  /** Whether {@code address} lies in this range (an IPv4 range never holds an IPv6 address). */
  public boolean contains(InetAddress address) {
    byte[] a = address.getAddress();
    if (a.length != network.length) return false;
    return java.util.Arrays.equals(mask(a, prefix), network);
  }

  private static byte[] mask(byte[] bytes, int prefix) {
    byte[] out = bytes.clone();
    for (int i = 0; i < out.length; i++) {
      int keep = Math.max(0, Math.min(8, prefix - i * 8));
      out[i] = (byte) (out[i] & (0xff00 >> keep));
    }
    return out;
  }

  @Override
  public String toString() {
    return text;
  }
}
