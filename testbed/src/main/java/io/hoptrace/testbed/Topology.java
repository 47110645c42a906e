package io.hoptrace.testbed;

import java.util.List;

/**
 * Services, their endpoints and timers. Services are listed callees first, so each is started
 * before anything that calls it. Built-in topologies: {@code chain}, {@code fanout}, {@code mixed}.
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

  /** A call to {@code service}'s {@code path}. */
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
      default ->
          throw new IllegalArgumentException(
              "topology: " + name + " (expected: chain, fanout or mixed)");
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
}
