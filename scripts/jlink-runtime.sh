#!/usr/bin/env bash
# Builds a small Java runtime holding only the modules hoptrace needs, for the container image.
# The Dockerfile runs it in its build stage; CI runs it outside Docker and starts hoptrace on the
# result (scripts/check-runtime.sh), so the runtime the image ships is a tested one.
#
# usage: scripts/jlink-runtime.sh OUT_DIR [JAR]
set -euo pipefail
out=${1:?usage: scripts/jlink-runtime.sh OUT_DIR [JAR]}
jar=${2:-proxy/target/hoptrace.jar}
[ -f "$jar" ] || { echo "jlink-runtime: $jar not found (run: mvn -q -DskipTests package)" >&2; exit 1; }

java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
[ -d "$java_home/jmods" ] || { echo "jlink-runtime: no jmods in $java_home (Debian: apt-get install openjdk-17-jmods)" >&2; exit 1; }

# What the jar's classes reference, plus what is only reached reflectively or by service loading:
# TLS cipher suites (jdk.crypto.ec), DNS (jdk.naming.dns), the JDK HTTP client and server used by
# the exporters and the trace page, and jcmd/JFR support for profiling in production.
found=$("$java_home/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 17 "$jar")
modules="$found,jdk.crypto.ec,jdk.naming.dns,java.net.http,jdk.httpserver,jdk.jfr,jdk.jcmd,jdk.zipfs"

rm -rf "$out"
"$java_home/bin/jlink" \
  --add-modules "$modules" \
  --strip-debug --no-man-pages --no-header-files --compress=2 --generate-cds-archive \
  --output "$out"
echo "jlink-runtime: $out ($(du -sh "$out" | cut -f1)) modules: $modules"
