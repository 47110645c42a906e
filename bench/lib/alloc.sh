#!/usr/bin/env bash
# Bytes allocated and CPU per request of one hoptrace hop, by thread and by allocation site
# (bench/README.md, "Allocation per request (s14)"). Starts a backend nginx and one sidecar through
# the launcher (bin/hoptrace, the shipped JVM flags), warms it up at 16 connections, then records
# JFR (bench/lib/alloc.jfc: jdk.ThreadAllocationStatistics, jdk.ObjectAllocationSample,
# jdk.ExecutionSample) around one closed-loop run and reads the process's CPU ticks around it.
# wrk on CPU 0, backend and sidecar on CPU 1. The CPU it prints (process, and by thread name) is
# mostly C2 recompiling after JFR starts in the warmed process: ~half of it, swinging ±20 us/req
# between runs of one jar (bench/README.md, "I/O thread work (s19)") — read the bytes here, and CPU
# from profile.sh or threads.sh.
#
#   bench/lib/alloc.sh [JAR] [inbound|outbound]     (wrap it in the shared bench lock)
#
# Environment: ALLOC_DURATION (10 s), ALLOC_WARMUP (15 s), ALLOC_CONNS (16), ALLOC_RATE (a fixed
# rate, e.g. 2000, instead of the closed loop), HOPTRACE_RUN_ARGS (more `run` arguments).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=$(readlink -f "${1:-$here/../../proxy/target/hoptrace.jar}")
mode=${2:-inbound}
duration=${ALLOC_DURATION:-10}
warmup=${ALLOC_WARMUP:-15}
conns=${ALLOC_CONNS:-16}
work=$(mktemp -d /tmp/hoptrace-alloc.XXXXXX)
# shellcheck source=bench/lib/sidecar.sh
source "$here/sidecar.sh"
# No class-data archive: it holds for one jar path only. JFR's first start is at launch (a
# one-second recording): started first in the warmed process it instruments its event classes and
# the launcher's C2-only JIT runs the deoptimized request path interpreted for many seconds (s28:
# 5,000 instead of 84,000 requests in the next 10 s, 1.9 ms of CPU per request).
start_sidecar "$mode" alloc env HOPTRACE_JAR="$jar" HOPTRACE_CDS_ARCHIVE=/nonexistent \
  JAVA_OPTS="-XX:StartFlightRecording=settings=$here/alloc.jfc,duration=1s,filename=$work/launch.jfr" \
  "$here/../../bin/hoptrace"
# every thread's user+system ticks, "name ticks" (the name may hold spaces: it is in parentheses)
thread_ticks() {
  for t in /proc/"$pid"/task/*/stat; do
    sed -E 's/^[0-9]+ \((.*)\) (.*)$/\1\t\2/' "$t" 2>/dev/null |
      awk -F'\t' '{ split($2, f, " "); print $1 "\t" f[12] + f[13] }'
  done
}

echo "hoptrace $mode, $jar; warm-up ${warmup}s at 16 connections; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
taskset -c 0 wrk -t1 -c16 -d"${warmup}s" -s "$here/closed.lua" "$url" >/dev/null 2>&1
jcmd "$pid" JFR.start name=alloc settings="$here/alloc.jfc" >/dev/null
before=$(ticks)
thread_ticks >"$work/threads-before.txt"
if [[ -n ${ALLOC_RATE:-} ]]; then
  BENCH_RATE=$ALLOC_RATE taskset -c 0 wrk -t1 -c20 -d"${duration}s" -s "$here/paced.lua" "$url" >"$work/wrk.txt" 2>&1
else
  taskset -c 0 wrk -t1 -c"$conns" -d"${duration}s" -s "$here/closed.lua" "$url" >"$work/wrk.txt" 2>&1
fi
after=$(ticks)
thread_ticks >"$work/threads-after.txt"
jcmd "$pid" JFR.stop name=alloc filename="$work/alloc.jfr" >/dev/null
requests=$(awk '/requests in/ { print $1 }' "$work/wrk.txt")
awk -v r="$requests" -v d="$((after - before))" -v tick="$((1000000 / $(getconf CLK_TCK)))" \
  'BEGIN { printf "== %s requests; process CPU %.1f us/req\n", r, d * tick / r }'
# CPU per request by thread name (threads of one name summed; those under 0.5 us/req left out)
awk -F'\t' -v r="$requests" -v tick="$((1000000 / $(getconf CLK_TCK)))" '
  NR == FNR { b[$1] += $2; next } { a[$1] += $2 }
  END { for (n in a) { d = (a[n] - b[n]) * tick / r; if (d >= 0.5) printf "  cpu %-24s %6.1f us/req\n", n, d } }' \
  "$work/threads-before.txt" "$work/threads-after.txt" | sort -k3 -rn
echo "load $(cut -d' ' -f1-3 /proc/loadavg); $(grep -o 'p50=[0-9]* p90=[0-9]* p99=[0-9]*' "$work/wrk.txt" || true)"
python3 "$here/alloc-report.py" "$work/alloc.jfr" "$requests" "${ALLOC_TOP:-15}"
echo "span lines: $(wc -l <"$work/spans.log"); work directory: $work"
