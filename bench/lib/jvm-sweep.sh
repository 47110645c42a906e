#!/usr/bin/env bash
# Runs the hoptrace-inbound row once per JVM flag set and prints what each costs: CPU per request,
# RSS/PSS and latency at the fixed rate, req/s at 16 connections. Used to choose the default
# HOPTRACE_JAVA_OPTS in bench/run.sh (results go in bench/README.md, "JVM flags").
#
#   bench/lib/jvm-sweep.sh                      the flag sets below
#   bench/lib/jvm-sweep.sh "-Xmx64m" "MALLOC_ARENA_MAX=2 -Xmx64m"   your own sets; leading
#                                               NAME=value words go to hoptrace's environment
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

image="-XX:+UseSerialGC -Xms32m -Xmx96m -Xss256k -XX:MaxMetaspaceSize=64m -XX:ReservedCodeCacheSize=32m -XX:+ExitOnOutOfMemoryError"
if (($#)); then
  sets=("$@")
else
  sets=(
    ""                                               # the JVM's defaults (G1, heap up to 1/4 of RAM)
    "$image"                                         # the Dockerfile's, run.sh's default
    "MALLOC_ARENA_MAX=2 $image"                      # fewer glibc malloc arenas
    "MALLOC_ARENA_MAX=2 $image -XX:TieredStopAtLevel=1"  # C1 only: no C2 compiler threads or code
  )
fi

echo "(image flags) = \`$image\` (Dockerfile JAVA_TOOL_OPTIONS)"
echo
echo "| HOPTRACE_ENV + HOPTRACE_JAVA_OPTS | req/s c16 | p50 µs @rate | p99 µs @rate | CPU µs/req @rate | CPU µs/req @c16 | context switches/req | RSS MB | PSS MB | threads | noise server / client % |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
for set in "${sets[@]}"; do
  env_words=() opts=""
  for word in $set; do
    if [[ -z "$opts" && "$word" =~ ^[A-Z_][A-Z0-9_]*= ]]; then env_words+=("$word"); else opts+="${opts:+ }$word"; fi
  done
  echo "[sweep] HOPTRACE_ENV='${env_words[*]}' HOPTRACE_JAVA_OPTS='$opts'" >&2
  out=$(HOPTRACE_ENV="${env_words[*]}" HOPTRACE_JAVA_OPTS="$opts" BENCH_CONNS=16 "$BENCH_DIR/run.sh" \
    --rows hoptrace-inbound --out - --no-install --no-build) || true
  # The detail table's hoptrace-inbound line (one req/s column, since BENCH_CONNS=16).
  label=${set/"$image"/(image flags)}
  awk -F'|' -v opts="${label:-(JVM defaults)}" '
    /^\| hoptrace-inbound \| [0-9]/ && ++n == 2 {
      gsub(/ /, "", $0); split($0, c, "|")
      printf "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", opts, c[3], c[5], c[7], c[9], c[10], c[12], c[13], c[14], c[15], c[19]
    }' <<<"$out"
done
