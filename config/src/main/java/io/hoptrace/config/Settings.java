package io.hoptrace.config;

import static java.util.Objects.requireNonNull;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The whole settings tree, read once at startup and validated; immutable afterwards.
 *
 * <p>Sources, lowest precedence first: {@code reference.conf} (every default, commented), the user
 * file, {@code HOPTRACE_*} environment variables, command-line overrides. Keys are named without
 * the {@code hoptrace.} root in errors and in {@link #load}'s override maps.
 */
public final class Settings {
  static final String ROOT = "hoptrace";
  static final String ENV_PREFIX = "HOPTRACE_";
  static final String ROUTES = "routes";
  static final String TCP_ROUTES = "tcp-routes";

  /** The one key under {@code tcp-routes} that is not a route. */
  static final String TCP_CONNECT_TIMEOUT = "connect-timeout";

  /**
   * Environment names that follow the command-line flags rather than the keys ({@code --span-log}
   * sets {@code span-log.path}); the canonical name wins when both are set.
   */
  static final Map<String, String> ENV_ALIASES = Map.of("HOPTRACE_SPAN_LOG", "span-log.path");

  /** Where a listener binds. */
  public record Listener(String host, int port) {
    public Listener {
      requireNonNull(host, "host");
    }
  }

  /** The span-log writer. */
  public record SpanLog(
      String path,
      long rotateSize,
      Duration rotateInterval,
      int queueSize,
      Duration flushInterval) {
    public SpanLog {
      requireNonNull(path, "path");
      requireNonNull(rotateInterval, "rotateInterval");
      requireNonNull(flushInterval, "flushInterval");
    }

    /** Whether span lines go to standard output ({@code path = "-"}). */
    public boolean stdout() {
      return path.equals("-");
    }
  }

  /** Forwarding to an upstream. */
  public record Upstream(
      Duration connectTimeout,
      Duration responseTimeout,
      Duration idleTimeout,
      int maxConnections,
      UpstreamClient client,
      int maxResponseHeadBytes) {
    public Upstream {
      requireNonNull(connectTimeout, "connectTimeout");
      requireNonNull(responseTimeout, "responseTimeout");
      requireNonNull(idleTimeout, "idleTimeout");
      requireNonNull(client, "client");
    }
  }

  /** Which HTTP client forwards to upstreams ({@code upstream.client}). */
  public enum UpstreamClient {
    /** Jetty's HttpClient, on its own selector thread. */
    JETTY("jetty"),
    /** Undertow's client, on the IO thread that serves the exchange. */
    SAME_LOOP("same-loop");

    private final String configValue;

    UpstreamClient(String configValue) {
      this.configValue = configValue;
    }

    /** As written in the config. */
    public String configValue() {
      return configValue;
    }
  }

  /** Which B3 headers are written. */
  public enum B3 {
    NONE,
    SINGLE,
    MULTI
  }

  /** Header formats beyond W3C. */
  public record Propagation(
      B3 b3,
      @Nullable String legacyTraceId,
      @Nullable String legacySpanId,
      String requestIdHeader,
      int tracestateMaxLength) {
    public Propagation {
      requireNonNull(b3, "b3");
      requireNonNull(requestIdHeader, "requestIdHeader");
    }
  }

  /** Headers added to the caller's response. */
  public record Response(boolean traceresponse, boolean requestId) {}

  /**
   * A named egress route: the app calls {@code outbound.host:listen}, hoptrace forwards upstream.
   */
  public record Route(String name, int listen, HostPort upstream) {
    public Route {
      requireNonNull(name, "name");
      requireNonNull(upstream, "upstream");
    }
  }

  /**
   * A {@code tcp-routes.<name>} entry: hoptrace listens on {@code host:listen} and relays to {@code
   * upstream}, timing each command of {@code protocol} ({@code tcp}, {@code redis} or {@code
   * mysql}).
   */
  public record TcpRoute(String name, String host, int listen, HostPort upstream, String protocol) {
    public TcpRoute {
      requireNonNull(name, "name");
      requireNonNull(host, "host");
      requireNonNull(upstream, "upstream");
      requireNonNull(protocol, "protocol");
    }
  }

  /**
   * {@code POST /spans} on the admin listener: spans the app reports itself. {@code rate} spans per
   * second refill a bucket of {@code burst} (0 = no limit).
   */
  public record AppSpans(
      boolean enabled, long maxBody, int maxSpansPerRequest, int rate, int burst) {}

  /**
   * What a header whose name holds an underscore gets (Envoy's headers_with_underscores_action).
   */
  public enum UnderscoreHeaders {
    /** Removed before forwarding; the request goes on. */
    DROP,
    /** The request is refused with 400. */
    REJECT,
    /** Forwarded as it is. */
    ALLOW
  }

  /** hardening: limits on what a listener accepts ({@code limits { }}; docs/security.md). */
  public record Limits(
      int maxRequestLine,
      int maxHeaderBytes,
      int maxHeaders,
      Duration headerTimeout,
      Duration idleTimeout,
      long bodyMinRate,
      Duration bodyRateGrace,
      int maxConnections,
      double shedHeapRatio,
      UnderscoreHeaders underscoreHeaders) {
    public Limits {
      requireNonNull(headerTimeout, "headerTimeout");
      requireNonNull(idleTimeout, "idleTimeout");
      requireNonNull(bodyRateGrace, "bodyRateGrace");
      requireNonNull(underscoreHeaders, "underscoreHeaders");
    }
  }

  /** The generation ring. */
  public record Ring(int generations, Duration period, int cap) {
    public Ring {
      requireNonNull(period, "period");
    }
  }

  /** The OTLP/HTTP body encoding. */
  public enum OtlpEncoding {
    PROTOBUF,
    JSON
  }

  /**
   * Exporting span lines to tracing backends from the running proxy, off the request path: one
   * bounded queue and worker per enabled backend.
   */
  public record Export(
      @Nullable URI zipkinUrl,
      @Nullable URI otlpUrl,
      OtlpEncoding otlpEncoding,
      int queueSize,
      int batchSize,
      Duration flushInterval,
      int maxAttempts,
      Duration timeout,
      Duration closeTimeout) {
    public Export {
      requireNonNull(otlpEncoding, "otlpEncoding");
      requireNonNull(flushInterval, "flushInterval");
      requireNonNull(timeout, "timeout");
      requireNonNull(closeTimeout, "closeTimeout");
    }

    /** Whether any backend is configured. */
    public boolean enabled() {
      return zipkinUrl != null || otlpUrl != null;
    }
  }

  /** The waterfall page on the admin listener, over the span lines this process wrote. */
  public record TracesPage(boolean enabled, int recentSpans) {}

  /**
   * Socket ownership from /proc, for exact {@code process} links (docs/process-links.md).
   *
   * @param root where proc is mounted, normally {@code /proc}
   */
  public record Procfs(
      boolean enabled,
      String root,
      Duration lookupBudget,
      int cacheSize,
      Duration refreshInterval,
      Duration missRefreshInterval,
      Duration reprobeInterval) {
    public Procfs {
      requireNonNull(root, "root");
      requireNonNull(lookupBudget, "lookupBudget");
      requireNonNull(refreshInterval, "refreshInterval");
      requireNonNull(missRefreshInterval, "missRefreshInterval");
      requireNonNull(reprobeInterval, "reprobeInterval");
    }
  }

  private final String service;
  private final Listener inbound;
  private final boolean inboundWebSocket;
  private final boolean inboundRelay;
  private final HostPort app;
  private final @Nullable Listener outbound;
  private final boolean outboundRelay;
  private final @Nullable Listener admin;
  private final SpanLog spanLog;
  private final Duration drainTime;
  private final Duration idleGc;
  private final Upstream upstream;
  private final List<CidrRange> trustedSources;
  private final Propagation propagation;
  private final Response response;
  private final Ring ring;
  private final String outboundHost;
  private final List<CidrRange> outboundAllowedSources;
  private final List<Integer> connectPorts;
  private final List<Route> routes;
  private final Duration correlatorGrace;
  private final List<TcpRoute> tcpRoutes;
  private final Duration tcpConnectTimeout;
  private final AppSpans appSpans;
  private final Export export;
  private final TracesPage tracesPage;
  private final Procfs procfs;
  private final Limits limits; // hardening
  private final String correlatorRule;
  private final boolean correlatorValueSharing;

  private Settings(Reader r) {
    service = r.nonEmpty("service");
    inbound = new Listener(r.nonEmpty("inbound.host"), r.port("inbound.port"));
    inboundWebSocket = r.bool("inbound.websocket");
    inboundRelay = r.oneOf("inbound.engine", "undertow", "relay").equals("relay");
    app = r.hostPort("app");
    outbound = r.optionalListener("outbound");
    outboundRelay = r.oneOf("outbound.engine", "undertow", "relay").equals("relay");
    admin = r.optionalListener("admin");
    spanLog =
        new SpanLog(
            r.nonEmpty("span-log.path"),
            r.bytes("span-log.rotate-size"),
            r.duration("span-log.rotate-interval", false),
            r.intIn("span-log.queue-size", 1, 1 << 24),
            r.duration("span-log.flush-interval", true));
    drainTime = r.duration("drain-time", false);
    upstream =
        new Upstream(
            r.duration("upstream.connect-timeout", true),
            r.duration("upstream.response-timeout", true),
            r.duration("upstream.idle-timeout", true),
            r.intIn("upstream.max-connections", 1, 65536),
            r.upstreamClient("upstream.client"),
            (int) r.bytesIn("upstream.max-response-head-bytes", 1024, 256L << 20));
    trustedSources = r.cidrs("trust.sources");
    propagation =
        new Propagation(
            r.b3("propagation.b3"),
            r.optionalHeaderName("propagation.legacy-trace-id"),
            r.optionalHeaderName("propagation.legacy-span-id"),
            r.headerName("propagation.request-id-header"),
            r.intIn("propagation.tracestate-max-length", 512, 8192));
    if ((propagation.legacyTraceId() == null) != (propagation.legacySpanId() == null)) {
      throw new SettingsException(
          "propagation.legacy-span-id",
          String.valueOf(propagation.legacySpanId()),
          "set together with propagation.legacy-trace-id, or both null");
    }
    response = new Response(r.bool("response.traceresponse"), r.bool("response.request-id"));
    ring =
        new Ring(
            r.intIn("ring.generations", 3, 64),
            r.duration("ring.period", true),
            r.intIn("ring.cap", 1, 1 << 26));
    idleGc = r.duration("heap.idle-gc", false);
    outboundHost = r.nonEmpty("outbound.host");
    outboundAllowedSources = r.cidrs("outbound.allowed-sources");
    connectPorts = r.ports("outbound.connect-ports");
    routes = r.routes(ROUTES);
    correlatorGrace = r.duration("correlator.grace", false);
    tcpRoutes = r.tcpRoutes(TCP_ROUTES);
    tcpConnectTimeout = r.duration(TCP_ROUTES + "." + TCP_CONNECT_TIMEOUT, true);
    appSpans = r.appSpans("admin.spans");
    export =
        new Export(
            r.optionalHttpUrl("export.zipkin.url"),
            r.optionalHttpUrl("export.otlp.url"),
            r.otlpEncoding("export.otlp.encoding"),
            r.intIn("export.queue-size", 1, 1 << 24),
            r.intIn("export.batch-size", 1, 100_000),
            r.duration("export.flush-interval", true),
            r.intIn("export.max-attempts", 1, 100),
            r.duration("export.timeout", true),
            r.duration("export.close-timeout", true));
    tracesPage =
        new TracesPage(r.bool("admin.traces-page"), r.intIn("admin.recent-spans", 1, 1_000_000));
    procfs =
        new Procfs(
            r.bool("procfs.enabled"),
            r.nonEmpty("procfs.root"),
            r.durationIn(
                "procfs.lookup-budget", Duration.ofMillis(1), Duration.ofSeconds(1), "1ms..1s"),
            r.intIn("procfs.cache-size", 0, 1 << 20),
            r.duration("procfs.refresh-interval", true),
            r.duration("procfs.miss-refresh-interval", true),
            r.duration("procfs.reprobe-interval", true));
    // hardening: limits { }
    limits =
        new Limits(
            (int) r.bytesIn("limits.max-request-line", 256, 1 << 20),
            (int) r.bytesIn("limits.max-header-bytes", 1024, 1 << 20),
            r.intIn("limits.max-headers", 8, 1000),
            r.duration("limits.header-timeout", true),
            r.duration("limits.idle-timeout", true),
            r.bytesIn("limits.body-min-rate", 0, 1L << 40),
            r.duration("limits.body-rate-grace", false),
            r.intIn("limits.max-connections", 1, 1 << 20),
            r.ratio("limits.shed-heap-ratio"),
            r.underscoreHeaders("limits.underscore-headers"));
    correlatorRule = r.oneOf("correlator.rule", "fewest_calls", "learned", "most_recent", "oldest");
    correlatorValueSharing = r.bool("correlator.value-sharing");
  }

  /**
   * Loads and validates the settings.
   *
   * @param userFile a HOCON file, or null for none
   * @param env the process environment; only {@code HOPTRACE_*} entries naming a known key are read
   * @param cliOverrides keys without the root ({@code inbound.port}) to string values
   * @throws SettingsException naming the key when a value is missing, unknown or out of range
   */
  public static Settings load(
      @Nullable Path userFile, Map<String, String> env, Map<String, String> cliOverrides) {
    requireNonNull(env, "env");
    requireNonNull(cliOverrides, "cliOverrides");
    Config reference =
        ConfigFactory.parseResources(
            Settings.class.getClassLoader(),
            "reference.conf",
            ConfigParseOptions.defaults().setAllowMissing(false));
    Map<String, ConfigValueType> keys = new LinkedHashMap<>();
    leaves(reference.getObject(ROOT), "", keys);

    Config user = ConfigFactory.empty();
    if (userFile != null) {
      if (!Files.isReadable(userFile)) {
        throw new SettingsException("config", userFile.toString(), "a readable HOCON file");
      }
      try {
        user = ConfigFactory.parseFile(userFile.toFile());
      } catch (ConfigException e) {
        throw new SettingsException(
            "config", userFile.toString(), "valid HOCON: " + e.getMessage());
      }
      if (user.hasPathOrNull(ROOT)) {
        Map<String, ConfigValueType> given = new LinkedHashMap<>();
        leaves(user.getObject(ROOT), "", given);
        for (String key : given.keySet()) checkKnown(key, keys, "a key from reference.conf");
      }
    }

    Map<String, Object> fromEnv = new LinkedHashMap<>();
    for (Map.Entry<String, String> alias : ENV_ALIASES.entrySet()) {
      String value = env.get(alias.getKey());
      if (value != null) fromEnv.put(ROOT + "." + alias.getValue(), value);
    }
    for (Map.Entry<String, ConfigValueType> key : keys.entrySet()) {
      String value = env.get(envName(key.getKey()));
      if (value != null) fromEnv.put(ROOT + "." + key.getKey(), typed(value, key.getValue()));
    }
    Map<String, Object> fromCli = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : cliOverrides.entrySet()) {
      checkKnown(e.getKey(), keys, "a key from reference.conf");
      fromCli.put(ROOT + "." + e.getKey(), typed(e.getValue(), keys.get(e.getKey())));
    }

    Config merged =
        ConfigFactory.parseMap(fromCli, "command line")
            .withFallback(ConfigFactory.parseMap(fromEnv, "environment"))
            .withFallback(user)
            .withFallback(reference);
    try {
      merged = merged.resolve();
    } catch (ConfigException e) {
      throw new SettingsException("config", "unresolvable", e.getMessage());
    }
    return new Settings(new Reader(merged.getConfig(ROOT)));
  }

  /**
   * The environment variable that sets {@code key}: {@code span-log.path} → HOPTRACE_SPAN_LOG_PATH.
   */
  public static String envName(String key) {
    return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  private static void checkKnown(String key, Map<String, ConfigValueType> keys, String expected) {
    if (key.startsWith(ROUTES + ".")) return; // names are the user's; Reader.routes checks them
    if (key.startsWith(TCP_ROUTES + ".")) return; // likewise, Reader.tcpRoutes
    if (!keys.containsKey(key)) throw new SettingsException(key, "unknown key", expected);
  }

  /** Every leaf key under {@code object}, including those set to null (an off switch). */
  private static void leaves(ConfigObject object, String prefix, Map<String, ConfigValueType> out) {
    for (Map.Entry<String, ConfigValue> e : object.entrySet()) {
      String key = prefix + quoteIfNeeded(e.getKey());
      if (e.getValue() instanceof ConfigObject child) {
        leaves(child, key + ".", out);
      } else {
        out.put(key, e.getValue().valueType());
      }
    }
  }

  private static String quoteIfNeeded(String key) {
    return key.indexOf('.') >= 0 ? '"' + key + '"' : key;
  }

  /** A string from the environment or the command line, as the reference value's type. */
  private static Object typed(String value, @Nullable ConfigValueType type) {
    if (type == ConfigValueType.LIST) {
      List<String> items = new ArrayList<>();
      for (String item : value.split(",", -1)) {
        if (!item.isBlank()) items.add(item.strip());
      }
      return items;
    }
    return value; // Typesafe Config converts strings to numbers, booleans, durations, sizes
  }

  public String service() {
    return service;
  }

  public Listener inbound() {
    return inbound;
  }

  /**
   * Whether the inbound listener relays plain HTTP/1.1 requests as bytes ({@code inbound.engine =
   * relay}) and hands the rest (upgrades, {@code Expect}, chunked bodies, anything doubtful) to the
   * Undertow path; false ({@code undertow}): every request takes the Undertow path.
   */
  public boolean inboundRelay() {
    return inboundRelay;
  }

  /**
   * Whether the outbound listeners (forward proxy and routes) relay plain HTTP/1.1 requests to an
   * address-literal target as bytes ({@code outbound.engine = relay}) and hand the rest (CONNECT,
   * host names, upgrades, anything doubtful) to the Undertow path; false ({@code undertow}): every
   * request takes the Undertow path.
   */
  public boolean outboundRelay() {
    return outboundRelay;
  }

  /** Whether WebSocket upgrades are passed to the app and relayed ({@code inbound.websocket}). */
  public boolean inboundWebSocket() {
    return inboundWebSocket;
  }

  public HostPort app() {
    return app;
  }

  /** The outbound listener, or null when off. */
  public @Nullable Listener outbound() {
    return outbound;
  }

  /** The admin listener, or null when off. */
  public @Nullable Listener admin() {
    return admin;
  }

  public SpanLog spanLog() {
    return spanLog;
  }

  public Duration drainTime() {
    return drainTime;
  }

  /** {@code heap.idle-gc}: quiet time before a full collection gives the heap back; 0 = off. */
  public Duration idleGc() {
    return idleGc;
  }

  public Upstream upstream() {
    return upstream;
  }

  /** Source ranges whose incoming trace context is continued. */
  public List<CidrRange> trustedSources() {
    return trustedSources;
  }

  /** Whether incoming trace context from {@code peer} may be continued. */
  public boolean trusted(InetAddress peer) {
    for (CidrRange range : trustedSources) {
      if (range.contains(peer)) return true;
    }
    return false;
  }

  public Propagation propagation() {
    return propagation;
  }

  public Response response() {
    return response;
  }

  public Ring ring() {
    return ring;
  }

  /** Where the outbound listeners bind ({@code outbound.host}), also when the proxy port is off. */
  public String outboundHost() {
    return outboundHost;
  }

  /** Sources that may use the outbound listeners (forward proxy, CONNECT, routes). */
  public List<CidrRange> outboundAllowedSources() {
    return outboundAllowedSources;
  }

  /** Whether {@code source} may use the outbound listeners. */
  public boolean outboundAllowed(InetAddress source) {
    for (CidrRange range : outboundAllowedSources) {
      if (range.contains(source)) return true;
    }
    return false;
  }

  /** Destination ports CONNECT tunnels may open to. */
  public List<Integer> connectPorts() {
    return connectPorts;
  }

  /** Named egress routes, in name order. */
  public List<Route> routes() {
    return routes;
  }

  /** How long after an inbound request ends a call may still be inferred to be its. */
  public Duration correlatorGrace() {
    return correlatorGrace;
  }

  /** TCP routes ({@code tcp-routes.<name>}), in name order; empty when none. */
  public List<TcpRoute> tcpRoutes() {
    return tcpRoutes;
  }

  /** How long a TCP route's upstream may take to accept a connection. */
  public Duration tcpConnectTimeout() {
    return tcpConnectTimeout;
  }

  /** {@code POST /spans} on the admin listener. */
  public AppSpans appSpans() {
    return appSpans;
  }

  /** Where and how span lines are exported. */
  public Export export() {
    return export;
  }

  /** The admin listener's traces page (served only when the admin listener is on). */
  public TracesPage tracesPage() {
    return tracesPage;
  }

  /** Socket ownership from /proc ({@code procfs.*}). */
  public Procfs procfs() {
    return procfs;
  }

  /** hardening: what the listeners accept, how long they wait, when they shed load. */
  public Limits limits() {
    return limits;
  }

  /**
   * {@code correlator.rule}: {@code fewest_calls}, {@code learned}, {@code most_recent} or {@code
   * oldest}.
   */
  public String correlatorRule() {
    return correlatorRule;
  }

  /**
   * {@code correlator.value-sharing}: whether the learned rule counts inbound values that reappear
   * in outbound calls as evidence.
   */
  public boolean correlatorValueSharing() {
    return correlatorValueSharing;
  }

  /** Reads one typed value at a time and turns every failure into a {@link SettingsException}. */
  private static final class Reader {
    final Config c;

    Reader(Config c) {
      this.c = c;
    }

    String raw(String key) {
      if (!c.hasPathOrNull(key)) return "missing";
      if (c.getIsNull(key)) return "null";
      return c.getValue(key).unwrapped().toString();
    }

    String string(String key, String expected) {
      try {
        return c.getString(key);
      } catch (ConfigException e) {
        throw new SettingsException(key, raw(key), expected);
      }
    }

    String oneOf(String key, String... values) {
      String expected = String.join(", ", values);
      String s = string(key, expected);
      for (String v : values) if (v.equals(s)) return s;
      throw new SettingsException(key, s, expected);
    }

    String nonEmpty(String key) {
      String s = string(key, "a non-empty string");
      if (s.isBlank()) throw new SettingsException(key, '"' + s + '"', "a non-empty string");
      return s;
    }

    boolean bool(String key) {
      try {
        return c.getBoolean(key);
      } catch (ConfigException e) {
        throw new SettingsException(key, raw(key), "true or false");
      }
    }

    int intIn(String key, int min, int max) {
      String expected = min + ".." + max;
      int v;
      try {
        v = c.getInt(key);
      } catch (ConfigException e) {
        throw new SettingsException(key, raw(key), expected);
      }
      if (v < min || v > max) throw new SettingsException(key, raw(key), expected);
      return v;
    }

    int port(String key) {
      return intIn(key, 0, 65535);
    }

    long bytes(String key) {
      try {
        long v = c.getBytes(key);
        if (v < 0) throw new SettingsException(key, raw(key), "a size >= 0, e.g. 256MiB");
        return v;
      } catch (ConfigException e) {
        throw new SettingsException(key, raw(key), "a size >= 0, e.g. 256MiB");
      }
    }

    long bytesIn(String key, long min, long max) {
      String expected = "a size in " + min + ".." + max + " bytes, e.g. 8KiB";
      long v;
      try {
        v = c.getBytes(key);
      } catch (ConfigException e) {
        throw new SettingsException(key, raw(key), expected);
      }
      if (v < min || v > max) throw new SettingsException(key, raw(key), expected);
      return v;
    }

    double ratio(String key) {
      String expected = "a number in (0, 1], e.g. 0.95 (1 = never shed)";
      double v;
      try {
        v = c.getDouble(key);
      } catch (ConfigException e) {
        throw new SettingsException(key, raw(key), expected);
      }
      if (!(v > 0 && v <= 1)) throw new SettingsException(key, raw(key), expected);
      return v;
    }

    UnderscoreHeaders underscoreHeaders(String key) {
      String expected = "drop, reject or allow";
      String s = string(key, expected);
      try {
        return UnderscoreHeaders.valueOf(s.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new SettingsException(key, s, expected);
      }
    }

    Duration duration(String key, boolean positive) {
      String expected = positive ? "a duration > 0, e.g. 10s" : "a duration >= 0, e.g. 10s";
      Duration d;
      try {
        d = c.getDuration(key);
      } catch (ConfigException e) {
        throw new SettingsException(key, raw(key), expected);
      }
      if (d.isNegative() || (positive && d.isZero())) {
        throw new SettingsException(key, raw(key), expected);
      }
      return d;
    }

    Duration durationIn(String key, Duration min, Duration max, String range) {
      Duration d = duration(key, true);
      if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
        throw new SettingsException(key, raw(key), "a duration in " + range);
      }
      return d;
    }

    HostPort hostPort(String key) {
      String s = string(key, "HOST:PORT");
      int colon = s.lastIndexOf(':');
      String host = colon > 0 ? s.substring(0, colon) : "";
      if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
      int port;
      try {
        port = Integer.parseInt(s.substring(colon + 1));
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (host.isEmpty() || port < 1 || port > 65535) {
        throw new SettingsException(key, s, "HOST:PORT with a port in 1..65535");
      }
      return new HostPort(host, port);
    }

    @Nullable Listener optionalListener(String prefix) {
      if (c.getIsNull(prefix + ".port")) return null;
      return new Listener(nonEmpty(prefix + ".host"), port(prefix + ".port"));
    }

    List<CidrRange> cidrs(String key) {
      String expected = "a list of CIDR ranges, e.g. [\"10.0.0.0/8\"]";
      List<String> items;
      try {
        items = c.getStringList(key);
      } catch (ConfigException e) {
        throw new SettingsException(key, raw(key), expected);
      }
      List<CidrRange> out = new ArrayList<>();
      for (String item : items) {
        CidrRange range = CidrRange.parse(item);
        if (range == null) throw new SettingsException(key, item, expected);
        out.add(range);
      }
      return List.copyOf(out);
    }

    List<Integer> ports(String key) {
      String expected = "a list of ports in 1..65535, e.g. [443]";
      List<Integer> items;
      try {
        items = c.getIntList(key);
      } catch (ConfigException e) {
        throw new SettingsException(key, raw(key), expected);
      }
      for (int port : items) {
        if (port < 1 || port > 65535) {
          throw new SettingsException(key, String.valueOf(port), expected);
        }
      }
      return List.copyOf(items);
    }

    List<Route> routes(String key) {
      ConfigObject object;
      try {
        object = c.getObject(key);
      } catch (ConfigException e) {
        throw new SettingsException(key, raw(key), "an object of named routes");
      }
      List<String> names = new ArrayList<>(object.keySet());
      java.util.Collections.sort(names);
      List<Route> out = new ArrayList<>();
      for (String name : names) {
        String prefix = key + "." + quoteIfNeeded(name);
        if (!isRouteName(name)) {
          throw new SettingsException(prefix, name, "a route name of letters, digits, - and _");
        }
        if (!(object.get(name) instanceof ConfigObject route)) {
          throw new SettingsException(
              prefix, raw(prefix), "{ listen = PORT, upstream = HOST:PORT }");
        }
        for (String field : route.keySet()) {
          if (!field.equals("listen") && !field.equals("upstream")) {
            throw new SettingsException(prefix + "." + field, "unknown key", "listen or upstream");
          }
        }
        out.add(new Route(name, port(prefix + ".listen"), hostPort(prefix + ".upstream")));
      }
      return List.copyOf(out);
    }

    List<TcpRoute> tcpRoutes(String key) {
      ConfigObject object;
      try {
        object = c.getObject(key);
      } catch (ConfigException e) {
        throw new SettingsException(key, raw(key), "an object of named TCP routes");
      }
      List<String> names = new ArrayList<>(object.keySet());
      java.util.Collections.sort(names);
      List<TcpRoute> out = new ArrayList<>();
      for (String name : names) {
        if (name.equals(TCP_CONNECT_TIMEOUT)) continue;
        String prefix = key + "." + quoteIfNeeded(name);
        String shape = "{ listen = PORT, upstream = HOST:PORT, protocol = redis | mysql | tcp }";
        if (!isRouteName(name)) {
          throw new SettingsException(prefix, name, "a route name of letters, digits, - and _");
        }
        if (!(object.get(name) instanceof ConfigObject route)) {
          throw new SettingsException(prefix, raw(prefix), shape);
        }
        for (String field : route.keySet()) {
          if (!List.of("listen", "upstream", "protocol", "host").contains(field)) {
            throw new SettingsException(
                prefix + "." + field, "unknown key", "listen, upstream, protocol or host");
          }
        }
        String listenKey = prefix + ".listen";
        if (!c.hasPath(listenKey)) throw new SettingsException(listenKey, "missing", "0..65535");
        int listen;
        try {
          listen = c.getInt(listenKey);
        } catch (ConfigException e) {
          listen = -1;
        }
        if (listen < 0 || listen > 65535) {
          throw new SettingsException(
              listenKey, raw(listenKey), "0..65535, 0 for an ephemeral port");
        }
        String host = route.containsKey("host") ? nonEmpty(prefix + ".host") : "127.0.0.1";
        String protocolKey = prefix + ".protocol";
        String protocol =
            route.containsKey("protocol")
                ? string(protocolKey, "redis, mysql or tcp").toLowerCase(Locale.ROOT)
                : "tcp";
        if (!List.of("redis", "mysql", "tcp").contains(protocol)) {
          throw new SettingsException(protocolKey, raw(protocolKey), "redis, mysql or tcp");
        }
        out.add(new TcpRoute(name, host, listen, hostPort(prefix + ".upstream"), protocol));
      }
      return List.copyOf(out);
    }

    AppSpans appSpans(String prefix) {
      int maxSpans = intIn(prefix + ".max-spans-per-request", 1, 100_000);
      int burst = intIn(prefix + ".burst", 1, 1 << 24);
      if (burst < maxSpans) {
        throw new SettingsException(
            prefix + ".burst",
            raw(prefix + ".burst"),
            "at least " + prefix + ".max-spans-per-request (" + maxSpans + ")");
      }
      long maxBody = bytes(prefix + ".max-body");
      if (maxBody < 1 || maxBody > (64L << 20)) {
        throw new SettingsException(prefix + ".max-body", raw(prefix + ".max-body"), "1B..64MiB");
      }
      return new AppSpans(
          bool(prefix + ".enabled"), maxBody, maxSpans, intIn(prefix + ".rate", 0, 1 << 24), burst);
    }

    private static boolean isRouteName(String name) {
      if (name.isEmpty()) return false;
      for (int i = 0; i < name.length(); i++) {
        char ch = name.charAt(i);
        boolean ok =
            (ch >= 'a' && ch <= 'z')
                || (ch >= 'A' && ch <= 'Z')
                || (ch >= '0' && ch <= '9')
                || ch == '-'
                || ch == '_';
        if (!ok) return false;
      }
      return true;
    }

    /** An http(s) URL with a host, or null when the value is empty (off). */
    @Nullable URI optionalHttpUrl(String key) {
      String expected = "an http:// or https:// URL, or \"\" for off";
      String s = string(key, expected).strip();
      if (s.isEmpty()) return null;
      URI uri;
      try {
        uri = new URI(s);
      } catch (URISyntaxException e) {
        throw new SettingsException(key, s, expected);
      }
      String scheme = uri.getScheme();
      boolean http =
          scheme != null
              && (scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
              && uri.getHost() != null;
      if (!http) throw new SettingsException(key, s, expected);
      return uri;
    }

    OtlpEncoding otlpEncoding(String key) {
      String s = string(key, "protobuf or json");
      try {
        return OtlpEncoding.valueOf(s.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new SettingsException(key, s, "protobuf or json");
      }
    }

    UpstreamClient upstreamClient(String key) {
      String s = string(key, "jetty or same-loop");
      for (UpstreamClient c : UpstreamClient.values()) {
        if (c.configValue().equals(s)) return c;
      }
      throw new SettingsException(key, s, "jetty or same-loop");
    }

    B3 b3(String key) {
      String s = string(key, "none, single or multi");
      try {
        return B3.valueOf(s.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new SettingsException(key, s, "none, single or multi");
      }
    }

    String headerName(String key) {
      String s = nonEmpty(key);
      for (int i = 0; i < s.length(); i++) {
        char ch = s.charAt(i);
        boolean token =
            (ch >= 'a' && ch <= 'z')
                || (ch >= 'A' && ch <= 'Z')
                || (ch >= '0' && ch <= '9')
                || "!#$%&'*+-.^_`|~".indexOf(ch) >= 0;
        if (!token) throw new SettingsException(key, s, "an HTTP header name");
      }
      return s;
    }

    @Nullable String optionalHeaderName(String key) {
      if (c.getIsNull(key)) return null;
      return headerName(key);
    }
  }
}
