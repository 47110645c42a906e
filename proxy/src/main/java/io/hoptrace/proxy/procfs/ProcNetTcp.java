package io.hoptrace.proxy.procfs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads {@code /proc/net/tcp} and {@code /proc/net/tcp6}: one row per socket, e.g.
 *
 * <pre>
 *   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
 *    0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 ...
 * </pre>
 *
 * <p>Addresses are the kernel's 32-bit words printed with {@code %08X} in host byte order (so
 * {@code 127.0.0.1} is {@code 0100007F} on little-endian machines), ports are plain hex, the state
 * is hex ({@code 01} established, {@code 0A} listen) and the inode is decimal ({@code 0} when no
 * process holds the socket, e.g. TIME_WAIT or not yet accepted).
 *
 * <p>The parse walks each line's bytes once, in place, into a reused {@link Row}; nothing is
 * allocated per row. A malformed row is skipped, never thrown.
 */
public final class ProcNetTcp {
  static final int STATE_ESTABLISHED = 0x01;
  static final int STATE_LISTEN = 0x0A;

  /** No row matched. */
  static final long NOT_FOUND = -1;

  /** The deadline passed before the file was read. */
  static final long TIMED_OUT = -2;

  /**
   * The row exists but its inode is 0: no process holds the socket (still in the accept queue, or
   * closed by its process and orphaned, e.g. FIN_WAIT or TIME_WAIT).
   */
  static final long UNOWNED = -3;

  /** Longer than any real row (about 150 bytes for tcp6); a longer line is skipped. */
  static final int MAX_LINE = 512;

  private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

  private final Path tcp;
  private final Path tcp6;

  /** Reads {@code <procRoot>/net/tcp} and {@code tcp6}: the network namespace of the reader. */
  public ProcNetTcp(Path procRoot) {
    Path net = procRoot.resolve("net");
    this.tcp = net.resolve("tcp");
    this.tcp6 = net.resolve("tcp6");
  }

  Path tcpPath() {
    return tcp;
  }

  /**
   * The inode of the socket whose app-side view is {@code key}; {@link #NOT_FOUND} when no row
   * matches, {@link #UNOWNED} when the matching row has inode 0 (no process holds the socket),
   * {@link #TIMED_OUT} when {@code deadlineNanos} (a {@link System#nanoTime()} value) passed. An
   * IPv4 key is looked up in {@code tcp}, then in {@code tcp6} (dual-stack sockets show IPv4-mapped
   * addresses there).
   */
  public long connectionInode(SocketKey key, long deadlineNanos) {
    long[] inodes = new long[1];
    return connectionInodes(new SocketKey[] {key}, inodes, deadlineNanos) ? inodes[0] : TIMED_OUT;
  }

  /**
   * The inodes of several connections in one pass over each file. The kernel produces the file page
   * by page by walking its TCP hash table bucket by bucket, so the cost is the walk up to the
   * furthest row wanted (a full walk for one that is absent), whatever the number of rows: a batch
   * costs little more than its most expensive member. {@code inodes[i]} receives the inode of
   * {@code keys[i]} or {@link #NOT_FOUND}; returns false if the deadline passed first (inodes then
   * partly filled).
   */
  public boolean connectionInodes(SocketKey[] keys, long[] inodes, long deadlineNanos) {
    Arrays.fill(inodes, 0, keys.length, NOT_FOUND);
    Row row = new Row();
    byte[] buf = new byte[16 * 1024];
    int left = keys.length;
    boolean anyV4 = false;
    for (SocketKey k : keys) {
      anyV4 |= k.isV4();
    }
    if (anyV4) {
      left = scan(tcp, keys, inodes, left, row, buf, deadlineNanos);
    }
    if (left > 0) {
      left = scan(tcp6, keys, inodes, left, row, buf, deadlineNanos);
    }
    return left >= 0;
  }

  /**
   * Bytes asked of the kernel per read while looking for listeners. The kernel produces a file a
   * few rows per read, until it holds as many bytes as asked, walking its TCP hash tables to find
   * them: the listening sockets first, then the established hash, {@code tcp_ehash_entries} buckets
   * (262,144 on the 23 GB bench host) however few sockets there are. Asking for little at a time
   * lets {@link #listenInodes} stop just after the listeners, when the walk has gone only as far as
   * the first established row.
   */
  static final int LISTEN_READ = 256;

  /**
   * Inodes of the sockets listening on {@code port} (any local address): those in {@code tcp}, or
   * if there are none, those in {@code tcp6} (an app listening on both families holds both sockets
   * in the same processes, and those processes are what the inodes are for). Reads only the
   * listening rows: the kernel lists every listening socket before any other, so the first row in
   * another state ends the part that matters, and the kernel's walk ends at the first established
   * socket of that family. A file with none (often {@code tcp6}) is still walked whole: ~4 ms of
   * CPU on the bench host, as much as a full read, which is why {@code tcp6} is read only when
   * needed.
   */
  public long[] listenInodes(int port) {
    Row row = new Row();
    byte[] buf = new byte[16 * 1024];
    long[] found = new long[4];
    int n = 0;
    for (Path file : new Path[] {tcp, tcp6}) {
      if (n > 0) {
        break;
      }
      try (InputStream in = Files.newInputStream(file)) {
        LineReader lines = new LineReader(in, buf, LISTEN_READ);
        while (lines.next()) {
          if (!parse(buf, lines.begin, lines.end, row)) {
            continue; // the header
          }
          if (row.state != STATE_LISTEN) {
            break;
          }
          if (row.localPort == port && row.inode != 0) {
            if (n == found.length) {
              found = Arrays.copyOf(found, n * 2);
            }
            found[n++] = row.inode;
          }
        }
      } catch (IOException | RuntimeException e) {
        // tcp6 is absent when IPv6 is disabled; a vanished /proc reads as "nothing listens".
      }
    }
    return Arrays.copyOf(found, n);
  }

  /** Fills inodes of keys found in {@code file}; returns how many are left, -1 on timeout. */
  private static int scan(
      Path file, SocketKey[] keys, long[] inodes, int left, Row row, byte[] buf, long deadline) {
    try (InputStream in = Files.newInputStream(file)) {
      LineReader lines = new LineReader(in, buf);
      int count = 0;
      while (lines.next()) {
        // nanoTime costs ~20ns; a row parse about as much: check every 64 rows.
        if ((++count & 63) == 0 && System.nanoTime() - deadline > 0) {
          return -1;
        }
        if (!parse(buf, lines.begin, lines.end, row)) {
          continue;
        }
        for (int i = 0; i < keys.length; i++) {
          if (inodes[i] == NOT_FOUND
              && keys[i].matches(
                  row.localHi,
                  row.localLo,
                  row.localPort,
                  row.remoteHi,
                  row.remoteLo,
                  row.remotePort)) {
            // A 4-tuple has one row at a time (the kernel's hash holds it once), so an inode-0 row
            // is the answer too: nobody holds that socket now.
            inodes[i] = row.inode == 0 ? UNOWNED : row.inode;
            if (--left == 0) {
              return 0;
            }
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      return left; // tcp6 is absent when IPv6 is off; a vanished file has nothing more to say
    }
    return System.nanoTime() - deadline > 0 ? -1 : left;
  }

  /** One parsed row, reused across rows. */
  static final class Row {
    long localHi;
    long localLo;
    int localPort;
    long remoteHi;
    long remoteLo;
    int remotePort;
    int state;
    long inode;
  }

  /**
   * Parses the row in {@code b[begin, end)} into {@code row}; false (row contents unspecified) when
   * it is not a well-formed row, such as the header line.
   */
  static boolean parse(byte[] b, int begin, int end, Row row) {
    if (end - begin > MAX_LINE) {
      return false;
    }
    // Field 0: "sl:" (a decimal index and a colon).
    int i = skipSpaces(b, begin, end);
    int start = i;
    while (i < end && isDigit(b[i])) {
      i++;
    }
    if (i == start || i >= end || b[i] != ':') {
      return false;
    }
    // Field 1 and 2: local and remote address:port.
    i = parseEndpoint(b, skipSpaces(b, i + 1, end), end, row, true);
    if (i < 0) {
      return false;
    }
    i = parseEndpoint(b, skipSpaces(b, i, end), end, row, false);
    if (i < 0) {
      return false;
    }
    // Field 3: state, two hex digits.
    i = skipSpaces(b, i, end);
    if (i + 2 > end) {
      return false;
    }
    int s1 = hex(b[i]);
    int s2 = hex(b[i + 1]);
    if (s1 < 0 || s2 < 0 || (i + 2 < end && b[i + 2] != ' ')) {
      return false;
    }
    row.state = (s1 << 4) | s2;
    i += 2;
    // Fields 4-8: tx:rx queue, tr:tm->when, retrnsmt, uid, timeout.
    for (int f = 0; f < 5; f++) {
      i = skipSpaces(b, i, end);
      start = i;
      while (i < end && b[i] != ' ') {
        i++;
      }
      if (i == start) {
        return false;
      }
    }
    // Field 9: inode, decimal.
    i = skipSpaces(b, i, end);
    start = i;
    long inode = 0;
    while (i < end && isDigit(b[i])) {
      if (i - start >= 19) {
        return false;
      }
      inode = inode * 10 + (b[i] - '0');
      i++;
    }
    if (i == start || (i < end && b[i] != ' ')) {
      return false;
    }
    row.inode = inode;
    return true;
  }

  /** Parses {@code ADDR:PORT} (8 or 32 hex digits, 4 hex digits); returns the index after it. */
  private static int parseEndpoint(byte[] b, int i, int end, Row row, boolean local) {
    int start = i;
    while (i < end && b[i] != ':' && b[i] != ' ') {
      i++;
    }
    int digits = i - start;
    if (i >= end || b[i] != ':' || (digits != 8 && digits != 32)) {
      return -1;
    }
    long hi;
    long lo;
    if (digits == 8) {
      long w = word(b, start);
      if (w < 0) {
        return -1;
      }
      hi = 0;
      lo = SocketKey.V4_MAPPED_PREFIX | w;
    } else {
      long w0 = word(b, start);
      long w1 = word(b, start + 8);
      long w2 = word(b, start + 16);
      long w3 = word(b, start + 24);
      if ((w0 | w1 | w2 | w3) < 0) {
        return -1;
      }
      hi = (w0 << 32) | w1;
      lo = (w2 << 32) | w3;
    }
    i++; // ':'
    int port = 0;
    int p = 0;
    for (; p < 4 && i + p < end; p++) {
      int d = hex(b[i + p]);
      if (d < 0) {
        return -1;
      }
      port = (port << 4) | d;
    }
    i += p;
    if (p != 4 || (i < end && b[i] != ' ')) {
      return -1;
    }
    if (local) {
      row.localHi = hi;
      row.localLo = lo;
      row.localPort = port;
    } else {
      row.remoteHi = hi;
      row.remoteLo = lo;
      row.remotePort = port;
    }
    return i;
  }

  /**
   * One 32-bit word printed {@code %08X} from host memory, as an unsigned value in network order;
   * -1 if not hex.
   */
  private static long word(byte[] b, int at) {
    int v = 0;
    for (int k = 0; k < 8; k++) {
      int d = hex(b[at + k]);
      if (d < 0) {
        return -1;
      }
      v = (v << 4) | d;
    }
    return (LITTLE_ENDIAN ? Integer.reverseBytes(v) : v) & 0xFFFF_FFFFL;
  }

  private static int skipSpaces(byte[] b, int i, int end) {
    while (i < end && (b[i] == ' ' || b[i] == '\t')) {
      i++;
    }
    return i;
  }

  private static boolean isDigit(byte c) {
    return c >= '0' && c <= '9';
  }

  private static int hex(byte c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    return -1;
  }

  /**
   * Splits a stream into lines inside one reused buffer: after {@link #next()}, the line is {@code
   * buf[begin, end)}. A line longer than the buffer is skipped whole.
   */
  static final class LineReader {
    private final InputStream in;
    private final byte[] buf;
    private final int readSize;
    private int filled;
    private int pos;
    private boolean eof;
    int begin;
    int end;

    LineReader(InputStream in, byte[] buf) {
      this(in, buf, buf.length);
    }

    /** Asks {@code in} for at most {@code readSize} bytes at a time. */
    LineReader(InputStream in, byte[] buf, int readSize) {
      this.in = in;
      this.buf = buf;
      this.readSize = readSize;
    }

    boolean next() throws IOException {
      boolean skipping = false;
      while (true) {
        for (int i = pos; i < filled; i++) {
          if (buf[i] == '\n') {
            begin = pos;
            end = i;
            pos = i + 1;
            if (skipping) {
              skipping = false;
              continue;
            }
            return true;
          }
        }
        if (eof) {
          if (pos < filled && !skipping) {
            begin = pos;
            end = filled;
            pos = filled;
            return true;
          }
          return false;
        }
        // Move the partial line to the front and read more.
        if (pos > 0) {
          System.arraycopy(buf, pos, buf, 0, filled - pos);
          filled -= pos;
          pos = 0;
        } else if (filled == buf.length) {
          filled = 0; // a line longer than the buffer: drop it
          skipping = true;
        }
        int n = in.read(buf, filled, Math.min(buf.length - filled, readSize));
        if (n < 0) {
          eof = true;
        } else {
          filled += n;
        }
      }
    }
  }
}
