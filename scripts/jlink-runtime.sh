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
major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*"$/\1/p' "$java_home/release" 2>/dev/null || true)
major=${major:-0}
# 24+ can link from the JDK's own run-time image (JEP 493): Temurin 25 ships no jmods.
if [ ! -d "$java_home/jmods" ] && [ "$major" -lt 24 ]; then
  echo "jlink-runtime: no jmods in $java_home (Debian: apt-get install openjdk-17-jmods)" >&2
  exit 1
fi
# --compress=2 is deprecated from 21 on (a warning); zip-6 is the same compression, unknown to 17.
compress=2
[ "$major" -lt 21 ] || compress=zip-6

# What the jar's classes reference, plus what is only reached reflectively or by service loading:
# TLS cipher suites (jdk.crypto.ec), DNS (jdk.naming.dns), the JDK HTTP client and server used by
# the exporters and the trace page, and jcmd/JFR support for profiling in production.
found=$("$java_home/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 17 "$jar")
modules="$found,jdk.crypto.ec,jdk.naming.dns,java.net.http,jdk.httpserver,jdk.jfr,jdk.jcmd,jdk.zipfs"

rm -rf "$out"
"$java_home/bin/jlink" \
  --add-modules "$modules" \
  --strip-debug --no-man-pages --no-header-files "--compress=$compress" --generate-cds-archive \
  --output "$out"
# On 25+ also the JDK class-data archive for compact object headers (lib/server/classes_coh.jsa,
# used with JAVA_OPTS=-XX:+UseCompactObjectHeaders), which --generate-cds-archive does not make:
# without it the JDK's archive does not map with that flag (hoptrace's, made by
# scripts/cds-archive.sh with the same JAVA_OPTS, is a static archive of its own and does; the
# JDK's is the fallback when it is missing or stale). The image stays on 17: bench/README.md,
# "JDK 25 (s16)".
if [ "$major" -ge 25 ]; then
  "$out/bin/java" -XX:+UseCompactObjectHeaders -Xshare:dump >/dev/null
  [ -f "$out/lib/server/classes_coh.jsa" ] || { echo "jlink-runtime: no classes_coh.jsa in $out" >&2; exit 1; }
fi
echo "jlink-runtime: $out ($(du -sh "$out" | cut -f1)) modules: $modules"
