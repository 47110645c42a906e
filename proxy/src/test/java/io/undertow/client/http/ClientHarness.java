package io.undertow.client.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.undertow.client.ClientCallback;
import io.undertow.client.ClientConnection;
import io.undertow.client.ClientExchange;
import io.undertow.client.ClientRequest;
import io.undertow.connector.ByteBufferPool;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.util.StringReadChannelListener;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Xnio;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;

/**
 * The stage of the tests of hoptrace's Undertow client classes: one XNIO IO thread, 8 KiB buffers
 * and a server socket on loopback for the connections to reach, and what the tests do with a client
 * connection.
 */
abstract class ClientHarness {
  static final OptionMap OPTIONS = OptionMap.create(Options.TCP_NODELAY, true);

  XnioWorker worker;
  XnioIoThread ioThread;
  ByteBufferPool buffers;
  ServerSocket server;

  @BeforeEach
  void startStage() throws IOException {
    worker = Xnio.getInstance().createWorker(OptionMap.create(Options.WORKER_IO_THREADS, 1));
    ioThread = worker.getIoThread();
    buffers = new DefaultByteBufferPool(false, 8192);
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
  }

  @AfterEach
  void stopStage() throws IOException {
    server.close();
    worker.shutdownNow();
    buffers.close();
  }

  /**
   * Sends {@code request} on {@code connection} from its IO thread; completes with the response's
   * status, a space and its body, or with the exchange's failure.
   */
  static CompletableFuture<String> send(
      XnioIoThread ioThread,
      ByteBufferPool buffers,
      ClientConnection connection,
      ClientRequest request) {
    CompletableFuture<String> read = new CompletableFuture<>();
    ioThread.execute(
        () ->
            connection.sendRequest(
                request,
                new ClientCallback<>() {
                  @Override
                  public void completed(ClientExchange exchange) {
                    exchange.setResponseListener(
                        new ClientCallback<>() {
                          @Override
                          public void completed(ClientExchange answered) {
                            int status = answered.getResponse().getResponseCode();
                            new StringReadChannelListener(buffers) {
                              @Override
                              protected void stringDone(String body) {
                                read.complete(status + " " + body);
                              }

                              @Override
                              protected void error(IOException e) {
                                read.completeExceptionally(e);
                              }
                            }.setup(answered.getResponseChannel());
                          }

                          @Override
                          public void failed(IOException e) {
                            read.completeExceptionally(e);
                          }
                        });
                  }

                  @Override
                  public void failed(IOException e) {
                    read.completeExceptionally(e);
                  }
                }));
    return read;
  }

  /** A callback that completes {@code f} with the connection, or with the failure. */
  static ClientCallback<ClientConnection> callback(CompletableFuture<ClientConnection> f) {
    return new ClientCallback<>() {
      @Override
      public void completed(ClientConnection result) {
        f.complete(result);
      }

      @Override
      public void failed(IOException e) {
        f.completeExceptionally(e);
      }
    };
  }

  /** Waits up to 5 s for {@code c} to be closed; fails if it is not. */
  static void waitClosed(ClientConnection c) throws InterruptedException {
    for (int i = 0; i < 500 && c.isOpen(); i++) Thread.sleep(10);
    assertThat(c.isOpen()).as("connection closed").isFalse();
  }
}
