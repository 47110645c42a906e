package io.hoptrace.traces.export;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

/** One POST with the JDK client, mapped to an export {@link SpanExporter.Result}. */
final class HttpSender {
  private final HttpClient client;
  private final URI endpoint;
  private final String contentType;
  private final Duration timeout;
  private volatile String lastError = "";

  HttpSender(URI endpoint, String contentType, Duration timeout) {
    this.endpoint = endpoint;
    this.contentType = contentType;
    this.timeout = timeout;
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(timeout)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  SpanExporter.Result post(byte[] body) throws InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(endpoint)
            .timeout(timeout)
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    try {
      HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
      int status = response.statusCode();
      if (status >= 200 && status < 300) return SpanExporter.Result.SUCCESS;
      String text = response.body();
      lastError =
          "HTTP "
              + status
              + (text == null || text.isBlank() ? "" : ": " + abbreviate(text.strip()));
      return status == 408 || status == 429 || status >= 500
          ? SpanExporter.Result.RETRY
          : SpanExporter.Result.FAILURE;
    } catch (HttpTimeoutException e) {
      lastError = "timeout after " + timeout.toMillis() + "ms";
      return SpanExporter.Result.RETRY;
    } catch (IOException e) {
      lastError = e.getClass().getSimpleName() + ": " + e.getMessage();
      return SpanExporter.Result.RETRY;
    }
  }

  String lastError() {
    return lastError;
  }

  URI endpoint() {
    return endpoint;
  }

  private static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }

  /** {@code base} itself when it has a path, else {@code base} + {@code defaultPath}. */
  static URI withDefaultPath(URI base, String defaultPath) {
    String scheme = base.getScheme();
    if (scheme == null || !(scheme.equals("http") || scheme.equals("https"))) {
      throw new IllegalArgumentException(base + " (expected: an http:// or https:// URL)");
    }
    if (base.getHost() == null) {
      throw new IllegalArgumentException(base + " (expected: a URL with a host)");
    }
    String path = base.getRawPath();
    if (path == null || path.isEmpty() || path.equals("/")) {
      return URI.create(base.getScheme() + "://" + base.getRawAuthority() + defaultPath);
    }
    return base;
  }
}
