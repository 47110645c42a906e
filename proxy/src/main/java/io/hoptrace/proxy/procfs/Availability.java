package io.hoptrace.proxy.procfs;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Arrays;

/** Whether socket ownership can be read, and if not, a one-line reason fit for a startup log. */
public final class Availability {
  private final ProcessTree.Discovery discovery;
  private final String reason;

  Availability(ProcessTree.Discovery discovery, String reason) {
    this.discovery = requireNonNull(discovery, "discovery");
    this.reason = requireNonNull(reason, "reason");
  }

  static Availability of(ProcessTree.Snapshot s, Path procRoot, int appPort) {
    String reason =
        switch (s.discovery()) {
          case FOUND ->
              "process links on: app port "
                  + appPort
                  + " is owned by "
                  + s.size()
                  + " process(es) "
                  + Arrays.toString(s.pids());
          case NO_PROC ->
              "process links off: "
                  + procRoot.resolve("net").resolve("tcp")
                  + " is not readable (/proc is not mounted)";
          case APP_NOT_LISTENING ->
              "process links off for now: nothing listens on app port "
                  + appPort
                  + " in this network namespace (the app is not up yet, or hoptrace does not share"
                  + " its network namespace)";
          case OWNER_NOT_VISIBLE ->
              "process links off: app port "
                  + appPort
                  + " listens but no visible process owns it (the PID namespace is not shared:"
                  + " Kubernetes shareProcessNamespace: true, Compose pid: \"service:app\")";
          case ACCESS_DENIED ->
              "process links off: the app's "
                  + procRoot
                  + "/<pid>/fd are not readable (EACCES): run hoptrace as the app's user or grant"
                  + " CAP_SYS_PTRACE";
        };
    return new Availability(s.discovery(), reason);
  }

  public boolean isAvailable() {
    return discovery == ProcessTree.Discovery.FOUND;
  }

  /** What the probe found: FOUND when available, otherwise which check failed. */
  public ProcessTree.Discovery discovery() {
    return discovery;
  }

  /** One line: on, or off and why and what to change. */
  public String reason() {
    return reason;
  }

  @Override
  public String toString() {
    return reason;
  }
}
