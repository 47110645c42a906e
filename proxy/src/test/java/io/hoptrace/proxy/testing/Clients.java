package io.hoptrace.proxy.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Real HTTP clients run as their users run them: curl and Python's urllib, as subprocesses. */
public final class Clients {
  /** Exit code and output of one subprocess. */
  public record Result(int exit, String out) {}

  /** {@code curl -sS -x http://127.0.0.1:PROXY URL} plus {@code extra} arguments. */
  public static Result curlViaProxy(int proxyPort, String url, String... extra)
      throws IOException, InterruptedException {
    List<String> command =
        new java.util.ArrayList<>(
            List.of("curl", "-sS", "--max-time", "10", "-x", "http://127.0.0.1:" + proxyPort));
    command.addAll(List.of(extra));
    command.add(url);
    return run(command, Map.of());
  }

  /** {@code curl -sS --max-time 10} plus {@code extra} arguments, then URL: straight to it. */
  public static Result curl(String url, String... extra) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>(List.of("curl", "-sS", "--max-time", "10"));
    command.addAll(List.of(extra));
    command.add(url);
    return run(command, Map.of());
  }

  /** Python's {@code urllib.request.urlopen(URL)} with {@code http_proxy} set, as an app would. */
  public static Result pythonUrllib(int proxyPort, String url, Map<String, String> headers)
      throws IOException, InterruptedException {
    StringBuilder h = new StringBuilder("{");
    headers.forEach((k, v) -> h.append('\'').append(k).append("':'").append(v).append("',"));
    h.append('}');
    String script =
        "import sys, urllib.request\n"
            + "req = urllib.request.Request(sys.argv[1], headers="
            + h
            + ")\n"
            + "print(urllib.request.urlopen(req, timeout=10).read().decode(), end='')\n";
    return run(
        List.of("python3", "-c", script, url),
        Map.of("http_proxy", "http://127.0.0.1:" + proxyPort));
  }

  static Result run(List<String> command, Map<String, String> env)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    for (String name : List.of("no_proxy", "NO_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy")) {
      pb.environment().remove(name);
    }
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("timed out: " + command);
    }
    return new Result(p.exitValue(), out);
  }

  private Clients() {}
}
