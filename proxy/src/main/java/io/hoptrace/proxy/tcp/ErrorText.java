package io.hoptrace.proxy.tcp;

/**
 * A server's error message made safe to record. Redis and MySQL quote the values that caused an
 * error ({@code Duplicate entry 'alice@example.com' for key 'email'}, {@code unknown command 'FOO',
 * with args beginning with: 'secret'}); every quoted part becomes {@code ?}, so the message keeps
 * its shape and loses its values. Non-printable bytes become {@code ?} too.
 */
public final class ErrorText {
  private ErrorText() {}

  /** Redacts {@code length} bytes of {@code message} from {@code offset}, at most max chars. */
  public static String redact(byte[] message, int offset, int length, int max) {
    StringBuilder s = new StringBuilder(Math.min(length, max));
    int end = offset + length;
    for (int i = offset; i < end && s.length() < max; i++) {
      int c = message[i] & 0xff;
      if ((c == '\'' || c == '"' || c == '`') && !wordBefore(message, offset, i)) {
        int j = i + 1;
        while (j < end && (message[j] & 0xff) != c) j++;
        s.append('?');
        i = j; // past the closing quote, or the end when it was cut off
      } else if (c == '\r' || c == '\n') {
        break;
      } else {
        s.append(c >= 0x20 && c < 0x7f ? (char) c : '?');
      }
    }
    int n = s.length();
    while (n > 0 && s.charAt(n - 1) == ' ') n--;
    s.setLength(n);
    return s.length() > 0 ? s.toString() : "error";
  }

  /** An apostrophe inside a word ({@code doesn't}) opens no quote. */
  private static boolean wordBefore(byte[] message, int offset, int i) {
    if (i == offset) return false;
    int c = message[i - 1] & 0xff;
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
}
