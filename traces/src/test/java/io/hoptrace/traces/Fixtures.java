package io.hoptrace.traces;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/** The span logs under src/test/resources: three services, rotated files, one bad line. */
public final class Fixtures {
  /** 10:00:00Z on 2026-11-25, the start of the checkout trace, in epoch microseconds. */
  public static final long T0 = 1_795_600_800_000_000L;

  /** front → orders → inventory, with an inferred link and a 503. */
  public static final String CHECKOUT = "4bf92f3577b34da6a3ce929d0e0e4736";

  public static final String HEALTH = "5c0a1e2d3f4b5a69788796a5b4c3d2e1";
  public static final String ORPHAN = "6d1b2c3d4e5f60718293a4b5c6d7e8f9";
  public static final String REQUEST_ID = "0f3c9a52-7d1e-4b8a-9c41-2e6f0a7b5d10";

  private Fixtures() {}

  public static Path logs() {
    return resource("logs");
  }

  public static Path resource(String name) {
    URL url = Fixtures.class.getResource(name);
    if (url == null) throw new IllegalStateException("missing test resource " + name);
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
