# hoptrace: a tracing sidecar. Build: docker build -t hoptrace .
# Run it in the app's network namespace (compose `network_mode: service:app`, or a pod sidecar) so
# that 127.0.0.1 is shared with the app.

# ---- build stage: Maven build, then a jlinked runtime of only the modules hoptrace needs (with
# the JDK's class-data archive, which jlink leaves out unless asked).
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
# The whole tree (.dockerignore leaves out target/ and .git/): Maven needs every module the root pom
# lists, even to build one, and a list kept here drifts (testbed/ and testing/ were once missing).
COPY . .
RUN mvn -B -q -DskipTests package \
 && scripts/jlink-runtime.sh /opt/jre proxy/target/hoptrace.jar

# ---- runtime stage: Debian slim, non-root.
FROM debian:12-slim
RUN groupadd --system --gid 10001 hoptrace \
 && useradd --system --uid 10001 --gid hoptrace --home-dir /nonexistent --shell /usr/sbin/nologin hoptrace \
 && mkdir -p /var/log/hoptrace && chown hoptrace:hoptrace /var/log/hoptrace
COPY --from=build /opt/jre /opt/jre
COPY --from=build /src/proxy/target/hoptrace.jar /opt/hoptrace/hoptrace.jar
COPY --from=build /src/bin/hoptrace /src/scripts/cds-archive.sh /opt/hoptrace/bin/
# The launcher's JVM flags (Serial GC, 96 MB heap, small stacks, MALLOC_ARENA_MAX=2, glibc's mmap
# threshold at 24 KiB so the JIT's freed arena chunks leave RSS at once, perf data off;
# measured in bench/README.md "JVM flags"); JAVA_OPTS adds to them, e.g. JAVA_OPTS=-Xmx128m with a
# larger ring.cap. With perf data off (-XX:-UsePerfData: no hsperfdata file in /tmp, no sampler
# thread) jps and jstat do not see hoptrace; the runtime's bin/jcmd does, by PID (the launcher
# execs java, so it is the container's PID 1): jcmd 1 GC.heap_info, Thread.print; JFR.start only
# when JFR started at launch (JAVA_OPTS=-XX:StartFlightRecording=duration=1s,filename=/tmp/l.jfr):
# a first JFR start deoptimizes a loaded sidecar for ~20 s (README, "Bare host").
# The class-data archive is made here, in the runtime stage, because it only holds for this java
# and this jar path: one static archive of the classes a training run through the
# listeners loaded, the JDK's and hoptrace's (the jlinked runtime's own archive is then only the
# fallback when hoptrace's is missing or stale; bench/README.md "One class-data archive (s21)").
ENV JAVA=/opt/jre/bin/java
RUN /opt/hoptrace/bin/cds-archive.sh /opt/jre/bin/java /opt/hoptrace/hoptrace.jar /opt/hoptrace/hoptrace.jsa

# Defaults for a sidecar: the app on 8080 in the same network namespace; inbound 15001, outbound
# (HTTP_PROXY) 15002, admin 15000; span lines to stdout. Override any setting with a HOPTRACE_*
# variable or mount a HOCON file and pass --config (see examples/hoptrace.conf).
ENV HOPTRACE_SERVICE=app \
    HOPTRACE_APP=127.0.0.1:8080 \
    HOPTRACE_INBOUND_PORT=15001 \
    HOPTRACE_OUTBOUND_PORT=15002 \
    HOPTRACE_ADMIN_PORT=15000 \
    HOPTRACE_SPAN_LOG=-

USER hoptrace:hoptrace
VOLUME ["/var/log/hoptrace"]
EXPOSE 15001 15002 15000
HEALTHCHECK --interval=10s --timeout=2s --retries=6 \
  CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${HOPTRACE_ADMIN_PORT} && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/opt/hoptrace/bin/hoptrace"]
CMD ["run"]
