package io.hoptrace.testbed;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.jspecify.annotations.Nullable;

/**
 * Services, their endpoints and timers. Services are listed callees first, so each is started
 * before anything that calls it. Built-in topologies: {@code chain}, {@code fanout}, {@code mixed},
 * {@code shop}.
 *
 * <p>Paths are templates: a {@code {name}} path segment or query value is an entity id. An endpoint
 * {@code /orders/{id}} is requested with an id drawn from the pool {@code id} ({@link #pool}), and
 * a call {@code /stock/{id}} made for it carries the same id; a name the inbound path does not bind
 * is drawn afresh (a value the call carries that the request did not).
 */
record Topology(String name, List<Service> services) {

  /** One toy service: its endpoints and its background timers. */
  record Service(String name, List<Endpoint> endpoints, List<Timer> timers) {}

  /**
   * An endpoint: think for {@code pre} (mean ms), then each step in order (a step's calls run in
   * parallel, then {@code after} ms of work), then respond. {@code weight}: how often the load
   * generator picks it (front service only).
   */
  record Endpoint(String path, double weight, double pre, List<Step> steps) {}

  /** Calls made together (in parallel when more than one), then {@code after} ms of work. */
  record Step(List<Call> calls, double after) {}

  /** A call to {@code service}'s {@code path} (a template: see above). */
  record Call(String service, String path) {}

  /** A background call every {@code periodMillis}, tied to no request (a timer, a health check). */
  record Timer(Call call, long periodMillis) {}

  Service front() {
    return services.get(services.size() - 1);
  }

  static Topology named(String name) {
    return switch (name) {
      case "chain" ->
          new Topology(
              name,
              List.of(
                  leaf("c", "/c", 15),
                  new Service("b", List.of(one("/b", 5, new Call("c", "/c"), 5)), List.of()),
                  new Service(
                      "front", List.of(one("/front", 5, new Call("b", "/b"), 5)), List.of())));
      case "fanout" ->
          new Topology(
              name,
              List.of(
                  leaf("c", "/c", 20),
                  leaf("b", "/b", 10),
                  new Service(
                      "front",
                      List.of(
                          new Endpoint(
                              "/front",
                              1,
                              5,
                              List.of(
                                  new Step(List.of(new Call("b", "/b"), new Call("c", "/c")), 5)))),
                      List.of())));
      case "mixed" ->
          new Topology(
              name,
              List.of(
                  new Service(
                      "c",
                      List.of(
                          new Endpoint("/pay", 1, 20, List.of()),
                          new Endpoint("/price", 1, 5, List.of()),
                          new Endpoint("/health", 1, 1, List.of())),
                      List.of()),
                  new Service(
                      "b",
                      List.of(one("/stock", 5, new Call("c", "/price"), 3)),
                      List.of(new Timer(new Call("c", "/health"), 700))),
                  new Service(
                      "front",
                      List.of(
                          new Endpoint(
                              "/order",
                              0.5,
                              5,
                              List.of(
                                  new Step(List.of(new Call("b", "/stock")), 10),
                                  new Step(List.of(new Call("c", "/pay")), 5))),
                          one("/browse", 0.3, 10, new Call("b", "/stock"), 10),
                          new Endpoint("/home", 0.2, 15, List.of())),
                      List.of(new Timer(new Call("c", "/health"), 500)))));
      case "shop" ->
          // entity ids in paths and queries, carried on by some calls and not by others
          new Topology(
              name,
              List.of(
                  new Service(
                      "c",
                      List.of(
                          new Endpoint("/price", 1, 5, List.of()),
                          new Endpoint("/warehouse", 1, 5, List.of()),
                          new Endpoint("/featured", 1, 3, List.of()),
                          new Endpoint("/health", 1, 1, List.of())),
                      List.of()),
                  new Service(
                      "b",
                      List.of(
                          one("/stock/{id}", 5, new Call("c", "/warehouse?item={id}"), 3),
                          one("/catalog", 5, new Call("c", "/featured"), 3)),
                      List.of(new Timer(new Call("c", "/health"), 700))),
                  new Service(
                      "front",
                      List.of(
                          new Endpoint(
                              "/orders/{id}",
                              0.45,
                              5,
                              List.of(
                                  new Step(List.of(new Call("b", "/stock/{id}")), 10),
                                  new Step(List.of(new Call("c", "/price?sku={id}")), 5))),
                          // the user id is not carried; the item id of the call is a fresh one
                          one("/users/{user}/cart", 0.25, 10, new Call("b", "/stock/{id}"), 10),
                          one("/browse", 0.2, 10, new Call("b", "/catalog"), 10),
                          new Endpoint("/home", 0.1, 15, List.of())),
                      List.of(new Timer(new Call("c", "/health"), 500)))));
      default ->
          throw new IllegalArgumentException(
              "topology: " + name + " (expected: chain, fanout, mixed or shop)");
    };
  }

  private static Service leaf(String name, String path, double millis) {
    return new Service(name, List.of(new Endpoint(path, 1, millis, List.of())), List.of());
  }

  private static Endpoint one(String path, double pre, Call call, double after) {
    return new Endpoint(path, 1, pre, List.of(new Step(List.of(call), after)));
  }

  private static Endpoint one(String path, double weight, double pre, Call call, double after) {
    return new Endpoint(path, weight, pre, List.of(new Step(List.of(call), after)));
  }

  // ---- path templates ----

  /** Entity ids: how many there are and how skewed their popularity is. */
  static final class Pool {
    final String prefix;
    final double[] cdf;

    /** {@code size} ids {@code prefix + (100000 + rank)}, rank r drawn with weight 1/r^s. */
    Pool(String prefix, int size, double s) {
      this.prefix = prefix;
      this.cdf = new double[size];
      double total = 0;
      for (int r = 0; r < size; r++) {
        total += 1 / Math.pow(r + 1, s);
        cdf[r] = total;
      }
      for (int r = 0; r < size; r++) cdf[r] /= total;
    }

    String draw(Random random) {
      double u = random.nextDouble();
      int lo = 0;
      int hi = cdf.length - 1;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (cdf[mid] < u) lo = mid + 1;
        else hi = mid;
      }
      return prefix + (100000 + lo);
    }
  }

  /**
   * Item ids ({@code id}): 2000, Zipf (s = 1), so the most popular is in ~12 % of requests and two
   * requests in flight together often share one; user ids ({@code user}): 5000, uniform.
   */
  private static final Map<String, Pool> POOLS =
      Map.of("id", new Pool("", 2000, 1.0), "user", new Pool("u", 5000, 0));

  static Pool pool(String name) {
    Pool p = POOLS.get(name);
    if (p == null) throw new IllegalArgumentException("no id pool: " + name);
    return p;
  }

  /**
   * The {@code {name}} segments of {@code template} bound to the values in {@code path}, or null
   * when the path does not fit the template. Query strings are not part of either.
   */
  static @Nullable Map<String, String> match(String template, String path) {
    String[] t = template.split("/", -1);
    String[] p = path.split("/", -1);
    if (t.length != p.length) return null;
    Map<String, String> bound = new HashMap<>();
    for (int i = 0; i < t.length; i++) {
      String name = placeholder(t[i]);
      if (name != null) {
        if (p[i].isEmpty()) return null;
        bound.put(name, p[i]);
      } else if (!t[i].equals(p[i])) {
        return null;
      }
    }
    return bound;
  }

  /**
   * {@code template} with every {@code {name}} replaced by {@code bound}'s value, or a fresh draw
   * from the pool of that name.
   */
  static String fill(String template, Map<String, String> bound, Random random) {
    StringBuilder b = new StringBuilder(template.length() + 16);
    int i = 0;
    while (i < template.length()) {
      int open = template.indexOf('{', i);
      if (open < 0) break;
      int close = template.indexOf('}', open);
      b.append(template, i, open);
      String name = template.substring(open + 1, close);
      String value = bound.get(name);
      b.append(value != null ? value : pool(name).draw(random));
      i = close + 1;
    }
    b.append(template, i, template.length());
    return b.toString();
  }

  /** {@code pathAndQuery} with the ground-truth id appended as the {@code gt} parameter. */
  static String withGt(String pathAndQuery, String gt) {
    return pathAndQuery + (pathAndQuery.indexOf('?') < 0 ? "?gt=" : "&gt=") + gt;
  }

  private static @Nullable String placeholder(String segment) {
    return segment.length() > 2 && segment.startsWith("{") && segment.endsWith("}")
        ? segment.substring(1, segment.length() - 1)
        : null;
  }
}
