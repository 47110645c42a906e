package io.hoptrace.proxy.procfs;

import static io.hoptrace.proxy.procfs.TestAddresses.at;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parser on text captured from a Linux 6.x x86-64 host (little-endian words). */
class ProcNetTcpTest {
  static final String TCP_HEADER =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout"
          + " inode                                                     \n";
  static final String TCP_ROWS =
      "   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0"
          + " 1150 1 000000008eb90606 100 0 0 10 0                      \n"
          + "   1: 020200C0:DC7C 507100CB:0050 06 00000000:00000000 03:00000567 00000000     0     "
          + "   0 0 3 000000000a9ed226                                      \n"
          + "   2: 0100007F:8C76 0100007F:8FBB 01 00000000:00000000 00:00000000 00000000     0    "
          + "    0 734211 1 0000000037666cee 20 4 30 10 -1                   \n"
          + "   3: 0100007F:8FBB 0100007F:8C76 01 00000000:00000000 00:00000000 00000000     0    "
          + "    0 734210 1 000000000924861e 20 4 30 10 -1                   \n";
  static final String TCP6_SAMPLE =
      "  sl  local_address                         remote_address                        st"
          + " tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
          + "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A"
          + " 00000000:00000000 00:00000000 00000000  1000        0 88001 1 0000000000000000 100 0"
          + " 0 10 0\n"
          + "   1: 0000000000000000FFFF00000100007F:8FBB 0000000000000000FFFF00000100007F:8C8A 01"
          + " 00000000:00000000 00:00000000 00000000     0        0 88002 1 0000000026d6e244 20 4"
          + " 31 10 -1\n"
          + "   2: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:D431 01"
          + " 00000000:00000000 00:00000000 00000000  1000        0 88003 1 0000000000000000 20 4"
          + " 31 10 -1\n"
          + "   3: B80D0120000000000000000001000000:01BB B80D0120000000000000000002000000:C350 01"
          + " 00000000:00000000 00:00000000 00000000  1000        0 88004 1 0000000000000000 20 4"
          + " 31 10 -1\n";

  @TempDir Path proc;

  @BeforeAll
  static void littleEndianHost() {
    // The samples were captured on a little-endian host; big-endian ones print words unswapped.
    assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN);
  }

  private static ProcNetTcp.Row parse(String line) {
    ProcNetTcp.Row row = new ProcNetTcp.Row();
    byte[] b = line.getBytes(US_ASCII);
    assertThat(ProcNetTcp.parse(b, 0, b.length, row)).as(line).isTrue();
    return row;
  }

  private static boolean parses(String line) {
    byte[] b = line.getBytes(US_ASCII);
    return ProcNetTcp.parse(b, 0, b.length, new ProcNetTcp.Row());
  }

  private static SocketKey key(String local, int localPort, String remote, int remotePort) {
    return SocketKey.of(at(local, localPort), at(remote, remotePort));
  }

  private void write(String tcp, String tcp6) throws IOException {
    Files.createDirectories(proc.resolve("net"));
    Files.writeString(proc.resolve("net/tcp"), tcp, US_ASCII);
    if (tcp6 != null) {
      Files.writeString(proc.resolve("net/tcp6"), tcp6, US_ASCII);
    }
  }

  @Test
  void parse_listenRow_readsAddressPortStateInode() {
    ProcNetTcp.Row row = parse(TCP_ROWS.lines().findFirst().orElseThrow());

    assertThat(row.state).isEqualTo(ProcNetTcp.STATE_LISTEN);
    assertThat(row.localPort).isEqualTo(2024);
    assertThat(SocketKey.address(row.localHi, row.localLo)).isEqualTo("0.0.0.0");
    assertThat(row.remotePort).isZero();
    assertThat(row.inode).isEqualTo(1150);
  }

  @Test
  void parse_v4Words_areHostOrder() {
    ProcNetTcp.Row row = parse(TCP_ROWS.lines().skip(1).findFirst().orElseThrow());

    assertThat(SocketKey.address(row.localHi, row.localLo)).isEqualTo("192.0.2.2");
    assertThat(row.localPort).isEqualTo(0xDC7C);
    assertThat(SocketKey.address(row.remoteHi, row.remoteLo)).isEqualTo("203.0.113.80");
    assertThat(row.remotePort).isEqualTo(80);
    assertThat(row.state).isEqualTo(6); // TIME_WAIT
    assertThat(row.inode).isZero();
  }

  @Test
  void parse_v4MappedV6_equalsPlainV4() {
    ProcNetTcp.Row row = parse(TCP6_SAMPLE.lines().skip(2).findFirst().orElseThrow());

    SocketKey v4 = key("127.0.0.1", 0x8FBB, "127.0.0.1", 0x8C8A);
    assertThat(
            v4.matches(
                row.localHi,
                row.localLo,
                row.localPort,
                row.remoteHi,
                row.remoteLo,
                row.remotePort))
        .isTrue();
    assertThat(row.inode).isEqualTo(88002);
  }

  @Test
  void parse_v6Loopback_andDocumentationPrefix() {
    ProcNetTcp.Row loop = parse(TCP6_SAMPLE.lines().skip(3).findFirst().orElseThrow());
    ProcNetTcp.Row doc = parse(TCP6_SAMPLE.lines().skip(4).findFirst().orElseThrow());

    assertThat(
            key("::1", 8080, "::1", 0xD431)
                .matches(
                    loop.localHi,
                    loop.localLo,
                    loop.localPort,
                    loop.remoteHi,
                    loop.remoteLo,
                    loop.remotePort))
        .isTrue();
    assertThat(
            key("2001:db8::1", 443, "2001:db8::2", 50000)
                .matches(
                    doc.localHi,
                    doc.localLo,
                    doc.localPort,
                    doc.remoteHi,
                    doc.remoteLo,
                    doc.remotePort))
        .isTrue();
  }

  @Test
  void parse_headerLine_isSkipped() {
    assertThat(parses(TCP_HEADER.trim())).isFalse();
  }

  @Test
  void parse_emptyLine_isSkipped() {
    assertThat(parses("")).isFalse();
    assertThat(parses("     ")).isFalse();
  }

  @Test
  void parse_truncatedRow_isSkipped() {
    assertThat(parses("   2: 0100007F:8C76 0100007F:8FBB 01 00000000:00000000")).isFalse();
  }

  @Test
  void parse_addressOfWrongLength_isSkipped() {
    assertThat(
            parses(
                "   2: 0100007:8C76 0100007F:8FBB 01 00000000:00000000 00:00000000 00000000 0 0"
                    + " 734211 1"))
        .isFalse();
  }

  @Test
  void parse_nonHexAddress_isSkipped() {
    assertThat(
            parses(
                "   2: 0100007G:8C76 0100007F:8FBB 01 00000000:00000000 00:00000000 00000000 0 0"
                    + " 734211 1"))
        .isFalse();
  }

  @Test
  void parse_shortPort_isSkipped() {
    assertThat(
            parses(
                "   2: 0100007F:8C7 0100007F:8FBB 01 00000000:00000000 00:00000000 00000000 0 0"
                    + " 734211 1"))
        .isFalse();
  }

  @Test
  void parse_nonDecimalInode_isSkipped() {
    assertThat(
            parses(
                "   2: 0100007F:8C76 0100007F:8FBB 01 00000000:00000000 00:00000000 00000000 0 0"
                    + " 7342x1 1"))
        .isFalse();
  }

  @Test
  void parse_hugeInode_isSkipped() {
    assertThat(
            parses(
                "   2: 0100007F:8C76 0100007F:8FBB 01 00000000:00000000 00:00000000 00000000 0 0"
                    + " 99999999999999999999 1"))
        .isFalse();
  }

  @Test
  void parse_overlongLine_isSkipped() {
    assertThat(parses(TCP_ROWS.lines().skip(2).findFirst().orElseThrow() + " ".repeat(600)))
        .isFalse();
  }

  @Test
  void parse_lowercaseHex_isAccepted() {
    ProcNetTcp.Row row =
        parse(
            "   2: 0100007f:8c76 0100007f:8fbb 01 00000000:00000000 00:00000000 00000000 0 0"
                + " 734211 1");
    assertThat(row.localPort).isEqualTo(0x8C76);
  }

  @Test
  void connectionInode_findsAppSideRow_notTheProxySide() throws IOException {
    write(TCP_HEADER + TCP_ROWS, TCP6_SAMPLE);
    ProcNetTcp net = new ProcNetTcp(proc);
    long noDeadline = System.nanoTime() + 10_000_000_000L;

    // Row 2 is the app's side (local 0x8C76), row 3 the other end of the same connection.
    assertThat(net.connectionInode(key("127.0.0.1", 0x8C76, "127.0.0.1", 0x8FBB), noDeadline))
        .isEqualTo(734211);
    assertThat(net.connectionInode(key("127.0.0.1", 0x8FBB, "127.0.0.1", 0x8C76), noDeadline))
        .isEqualTo(734210);
  }

  @Test
  void connectionInode_v4Key_fallsBackToMappedRowInTcp6() throws IOException {
    write(TCP_HEADER + TCP_ROWS, TCP6_SAMPLE);

    assertThat(
            new ProcNetTcp(proc)
                .connectionInode(
                    key("127.0.0.1", 0x8FBB, "127.0.0.1", 0x8C8A),
                    System.nanoTime() + 10_000_000_000L))
        .isEqualTo(88002);
  }

  @Test
  void connectionInode_zeroInodeRow_isUnowned() throws IOException {
    write(TCP_HEADER + TCP_ROWS, TCP6_SAMPLE);

    assertThat(
            new ProcNetTcp(proc)
                .connectionInode(
                    key("192.0.2.2", 0xDC7C, "203.0.113.80", 80),
                    System.nanoTime() + 10_000_000_000L))
        .isEqualTo(ProcNetTcp.UNOWNED);
  }

  @Test
  void connectionInode_missingFiles_isNotFound() {
    assertThat(
            new ProcNetTcp(proc)
                .connectionInode(
                    key("127.0.0.1", 1, "127.0.0.1", 2), System.nanoTime() + 10_000_000_000L))
        .isEqualTo(ProcNetTcp.NOT_FOUND);
  }

  @Test
  void connectionInode_manyRowsAndMalformedOnes_findsTheLast() throws IOException {
    StringBuilder tcp = new StringBuilder(TCP_HEADER);
    for (int i = 0; i < 5000; i++) {
      int port = 20000 + i;
      tcp.append(
          String.format(
              "%4d: 0100007F:%04X 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0"
                  + "        0 %d 1 0000000000000000 20 4 30 10 -1\n",
              i, port, 100000 + i));
      if (i % 100 == 0) {
        tcp.append("garbage row ").append(i).append('\n');
      }
    }
    write(tcp.toString(), null);

    assertThat(
            new ProcNetTcp(proc)
                .connectionInode(
                    key("127.0.0.1", 24999, "127.0.0.1", 8080),
                    System.nanoTime() + 10_000_000_000L))
        .isEqualTo(104999);
  }

  @Test
  void connectionInode_pastDeadline_timesOut() throws IOException {
    write(TCP_HEADER + TCP_ROWS, TCP6_SAMPLE);

    assertThat(
            new ProcNetTcp(proc)
                .connectionInode(key("127.0.0.1", 1, "127.0.0.1", 2), System.nanoTime() - 1))
        .isEqualTo(ProcNetTcp.TIMED_OUT);
  }

  @Test
  void listenInodes_findsV4AndV6Listeners() throws IOException {
    write(TCP_HEADER + TCP_ROWS, TCP6_SAMPLE);
    ProcNetTcp net = new ProcNetTcp(proc);

    assertThat(net.listenInodes(2024)).containsExactly(1150);
    assertThat(net.listenInodes(8080)).containsExactly(88001); // established ::1 rows excluded
    assertThat(net.listenInodes(9)).isEmpty();
  }

  @Test
  void listenInodes_portListeningInTcp_doesNotReadTcp6() throws IOException {
    String v6Listener =
        "   0: 00000000000000000000000000000000:07E8 00000000000000000000000000000000:0000 0A"
            + " 00000000:00000000 00:00000000 00000000  1000        0 88009 1 0000000000000000 100"
            + " 0 0 10 0\n";
    int header = TCP6_SAMPLE.indexOf('\n') + 1;
    write(
        TCP_HEADER + TCP_ROWS,
        TCP6_SAMPLE.substring(0, header) + v6Listener + TCP6_SAMPLE.substring(header));
    ProcNetTcp net = new ProcNetTcp(proc);

    // Both families listen on 2024 (in the same processes, as apps do): tcp's socket is enough.
    assertThat(net.listenInodes(2024)).containsExactly(1150);
    // Only tcp6 listens on 8080: read when tcp has nothing.
    assertThat(net.listenInodes(8080)).containsExactly(88001);
  }

  @Test
  void listenInodes_stopsAtTheFirstRowNotListening() throws IOException {
    // The kernel lists every listening socket first: a LISTEN row after an established one is
    // never written, so reading it would mean the rest of the table was read (and walked) too.
    String lateListener =
        "   4: 00000000:270F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0"
            + " 4242 1 000000008eb90606 100 0 0 10 0                      \n";
    write(TCP_HEADER + TCP_ROWS + lateListener, null);

    ProcNetTcp net = new ProcNetTcp(proc);

    assertThat(net.listenInodes(2024)).containsExactly(1150);
    assertThat(net.listenInodes(9999)).isEmpty();
  }

  @Test
  void lineReader_withReadSize_asksForNoMoreThanThatAtATime() throws IOException {
    byte[] text = (TCP_HEADER + TCP_ROWS).getBytes(US_ASCII);
    int[] largest = {0};
    InputStream recording =
        new ByteArrayInputStream(text) {
          @Override
          public synchronized int read(byte[] b, int off, int len) {
            largest[0] = Math.max(largest[0], len);
            return super.read(b, off, len);
          }
        };
    ProcNetTcp.LineReader r =
        new ProcNetTcp.LineReader(recording, new byte[16 * 1024], ProcNetTcp.LISTEN_READ);
    int lines = 0;
    while (r.next()) {
      lines++;
    }

    assertThat(lines).isEqualTo(5);
    assertThat(largest[0]).isEqualTo(ProcNetTcp.LISTEN_READ);
  }

  @Test
  void lineReader_splitsAcrossBufferRefills_andDropsOverlongLines() throws IOException {
    String text = "a\n" + "b".repeat(40) + "\n" + "x".repeat(100) + "\nlast";
    ProcNetTcp.LineReader r =
        new ProcNetTcp.LineReader(new ByteArrayInputStream(text.getBytes(US_ASCII)), new byte[64]);
    List<Integer> lengths = new ArrayList<>();
    while (r.next()) {
      lengths.add(r.end - r.begin);
    }

    assertThat(lengths).containsExactly(1, 40, 4);
  }
}
