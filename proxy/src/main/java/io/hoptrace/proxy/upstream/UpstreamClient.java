package io.hoptrace.proxy.upstream;

import io.hoptrace.config.Settings;
import org.eclipse.jetty.client.ContinueProtocolHandler;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.thread.Invocable;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The one Jetty HttpClient every hop forwards with: HTTP/1.1, pooled keep-alive connections, one
 * selector, and nothing a transparent proxy must not do (no redirects, cookies, authentication,
 * content decoding or User-Agent of its own).
 */
public final class UpstreamClient implements AutoCloseable {
  private final HttpClient client;

  public UpstreamClient(Settings.Upstream settings) {
    ClientConnector connector = new ClientConnector();
    connector.setSelectors(1);
    QueuedThreadPool threads = new QueuedThreadPool(16, 2);
    threads.setName("hoptrace-upstream");
    threads.setDaemon(true);
    connector.setExecutor(threads);
    HttpClientTransportOverHTTP transport = new HttpClientTransportOverHTTP(connector);
    // Every callback of ours only hands work to an Undertow IO thread, so Jetty may call it
    // directly on its selector thread instead of dispatching to its pool.
    transport.setInvocationType(Invocable.InvocationType.NON_BLOCKING);
    client = new HttpClient(transport);
    client.setExecutor(threads);
    client.setConnectTimeout(settings.connectTimeout().toMillis());
    client.setIdleTimeout(settings.idleTimeout().toMillis());
    client.setMaxConnectionsPerDestination(settings.maxConnections());
    client.setMaxRequestsQueuedPerDestination(64 * 1024);
    // Header blocks up to 64 KiB each way: whatever the caller's or the app's headers, Jetty must
    // not be the one to refuse them (its defaults are 4 KiB out, 16 KiB in).
    client.setRequestBufferSize(64 * 1024);
    client.setResponseBufferSize(64 * 1024);
    client.setFollowRedirects(false);
    client.setHttpCookieStore(new org.eclipse.jetty.http.HttpCookieStore.Empty());
    client.setUserAgentField(null);
    client.getProtocolHandlers().clear(); // no redirect/auth handling: the client decides
    client.getProtocolHandlers().put(new ContinueProtocolHandler()); // Expect: 100-continue
  }

  /**
   * Tells {@code listener} when each upstream connection opens and closes (e.g. to forget what was
   * cached about it). Call before {@link #start()}.
   */
  public void addConnectionListener(org.eclipse.jetty.io.Connection.Listener listener) {
    client.addBean(listener); // Jetty adds HttpClient's listener beans to every new connection
  }

  public void start() throws Exception {
    client.start();
    // Bytes pass through as the upstream sent them. Jetty 12.1's doStart() registers every
    // decoder it finds on the classpath (gzip comes with jetty-client), so this must follow
    // start(): cleared before, Jetty added "Accept-Encoding: gzip" to requests the caller sent
    // without it, then decoded the answer and dropped its Content-Encoding.
    client.getContentDecoderFactories().clear();
  }

  HttpClient jetty() {
    return client;
  }

  @Override
  public void close() {
    try {
      client.stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      throw new IllegalStateException("stopping the upstream client", e);
    }
  }
}
