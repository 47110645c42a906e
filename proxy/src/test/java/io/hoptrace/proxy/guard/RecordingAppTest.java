package io.hoptrace.proxy.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The stage's own app: a closed (killed) app is gone, as a killed process is. The fault tests
 * assert what hoptrace answers for a dead upstream; an app that still accepted after close() made
 * them wait for a response that never came (UpstreamFaultTest and its Jetty twin, on either
 * upstream client: 504 after the 30 s response timeout instead of 502).
 */
class RecordingAppTest {
  static final int ROUNDS = 100;

  @Test
  void close_thenConnect_isRefused_andNothingWasAccepted() throws Exception {
    for (int round = 0; round < ROUNDS; round++) {
      try (RecordingApp app = new RecordingApp()) {
        closedAppRefuses(app, round);
      }
    }
  }

  private static void closedAppRefuses(RecordingApp app, int round) throws Exception {
    InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), app.port());
    // One exchange first: the acceptor is back inside accept() when close() comes.
    try (Socket socket = new Socket()) {
      socket.connect(address, 3000);
      socket.setSoTimeout(3000);
      socket.getOutputStream().write(UpstreamFaultTest.GET.getBytes(StandardCharsets.ISO_8859_1));
      byte[] answer = socket.getInputStream().readNBytes(RecordingApp.OK.length());
      assertThat(new String(answer, StandardCharsets.ISO_8859_1)).isEqualTo(RecordingApp.OK);
    }
    app.close();
    Throwable connect =
        catchThrowable(
            () -> {
              try (Socket socket = new Socket()) {
                socket.connect(address, 3000);
              }
            });
    assertThat(connect)
        .as("round %d: a connect right after close()", round)
        .isInstanceOf(ConnectException.class);
    assertThat(app.connections).as("round %d: connections accepted", round).hasValue(1);
  }
}
