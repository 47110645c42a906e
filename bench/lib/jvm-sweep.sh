#!/usr/bin/env bash
# Runs the hoptrace-inbound row once per JVM flag set and prints what each costs: CPU per request,
# RSS/PSS and latency at the fixed rate, req/s at 16 connections. Used to choose the flags the
# launcher ships (bin/hoptrace; results in bench/README.md, "JVM flags").
#
#   bench/lib/jvm-sweep.sh                      the flag sets below
#   bench/lib/jvm-sweep.sh "launcher" "launcher -XX:TieredStopAtLevel=1" "MALLOC_ARENA_MAX=16 -Xmx64m"
#                                               your own sets: leading NAME=value words go to
#                                               hoptrace's environment, ring.cap=N to its
#                                               settings; "launcher" stands for bin/hoptrace's
#                                               flags, the rest replaces them (HOPTRACE_JAVA_OPTS)
# HOPTRACE_JAR and the BENCH_* variables pass through to bench/run.sh.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if (($#)); then
  sets=("$@")
else
  sets=(
    "MALLOC_ARENA_MAX=16"                            # the JVM's defaults (G1, heap 1/4 of RAM), glibc's arenas
    "launcher"                                       # what bin/hoptrace and the image ship
    "launcher -XX:TieredStopAtLevel=1"               # C1 only: no C2 compiler thread or code
    "launcher -Xmx64m ring.cap=10000"                # a smaller heap, and a ring that fits it
  )
fi

echo "(launcher) = \`$(HOPTRACE_DRY_RUN=1 "$BENCH_DIR/../bin/hoptrace" run 2>&1 | sed 's/ -jar .*//')\`"
echo
echo "| set | req/s c16 | p50 µs @rate | p99 µs @rate | CPU µs/req @rate | CPU µs/req @c16 | context switches/req | RSS MB | PSS MB | threads | noise server / client % |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
for set in "${sets[@]}"; do
  env_words=() opts="" launcher=false run_args="--set span-log.rotate-size=0"
  for word in $set; do
    if [[ -z "$opts" && "$word" =~ ^[A-Z_][A-Z0-9_]*= ]]; then env_words+=("$word")
    elif [[ "$word" == launcher ]]; then launcher=true
    elif [[ "$word" == ring.cap=* ]]; then run_args+=" --set $word"
    else opts+="${opts:+ }$word"; fi
  done
  echo "[sweep] $set" >&2
  if $launcher; then
    out=$(env HOPTRACE_ENV="${env_words[*]}" JAVA_OPTS="$opts" HOPTRACE_RUN_ARGS="$run_args" BENCH_CONNS=16 \
      "$BENCH_DIR/run.sh" --rows hoptrace-inbound --out - --no-install --no-build) || true
  else
    out=$(env HOPTRACE_ENV="${env_words[*]}" HOPTRACE_JAVA_OPTS="$opts" HOPTRACE_RUN_ARGS="$run_args" \
      BENCH_CDS=0 BENCH_CONNS=16 \
      "$BENCH_DIR/run.sh" --rows hoptrace-inbound --out - --no-install --no-build) || true
  fi
  # The detail table's hoptrace-inbound line (one req/s column, since BENCH_CONNS=16).
  awk -F'|' -v set="$set" '
    /^\| hoptrace-inbound \| [0-9]/ && ++n == 2 {
      gsub(/ /, "", $0); split($0, c, "|")
      printf "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", set, c[3], c[5], c[7], c[9], c[10], c[12], c[13], c[14], c[15], c[19]
    }' <<<"$out"
  echo "[sweep] $(uptime)" >&2
done
