#!/usr/bin/env bash
# Runs the hoptrace-inbound row once per JVM flag set and prints what each costs: CPU per request,
# RSS/PSS and latency at the fixed rate, req/s at 16 connections. Used to choose the default
# HOPTRACE_JAVA_OPTS in bench/run.sh (results go in bench/README.md, "JVM flags").
#
#   bench/lib/jvm-sweep.sh                      the flag sets below
#   bench/lib/jvm-sweep.sh "-Xmx64m" "-Xmx128m" your own sets
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if (($#)); then
  sets=("$@")
else
  sets=(
    ""                                                                   # the JVM's defaults (G1, 1/4 of RAM)
    "-XX:+UseSerialGC -Xms32m -Xmx96m -Xss256k"                          # run.sh's default
    "-XX:+UseSerialGC -Xms32m -Xmx96m -Xss256k -XX:TieredStopAtLevel=1"  # C1 only
    "-XX:+UseSerialGC -Xms32m -Xmx96m -Xss256k -XX:ReservedCodeCacheSize=32m -XX:MaxMetaspaceSize=64m -XX:CICompilerCount=2"
  )
fi

echo "| HOPTRACE_JAVA_OPTS | req/s c16 | p50 µs @rate | p99 µs @rate | CPU µs/req @rate | CPU µs/req @c16 | RSS MB | PSS MB | threads | noise server / client % |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
for opts in "${sets[@]}"; do
  echo "[sweep] HOPTRACE_JAVA_OPTS='$opts'" >&2
  out=$(HOPTRACE_JAVA_OPTS="$opts" BENCH_CONNS=16 "$BENCH_DIR/run.sh" --rows hoptrace-inbound --out - \
    --no-install --no-build) || true
  # The detail table's hoptrace-inbound line (one req/s column, since BENCH_CONNS=16).
  awk -F'|' -v opts="${opts:-(JVM defaults)}" '
    /^\| hoptrace-inbound \| [0-9]/ && ++n == 2 {
      gsub(/ /, "", $0); split($0, c, "|")
      printf "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", opts, c[3], c[5], c[7], c[9], c[10], c[12], c[13], c[14], c[18]
    }' <<<"$out"
done
