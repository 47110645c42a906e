#!/usr/bin/env bash
# Where a hoptrace sidecar's RSS goes (bench/README.md, "Memory (s14)"). Starts a backend nginx and
# one sidecar through the launcher (bin/hoptrace, the flags users run, plus native memory tracking),
# warms it up at 16 connections, then runs 2,000 req/s, 64 connections and an idle pause, and after
# each prints RSS/PSS, the NMT summary (committed MB per part), heap used/committed, threads and
# the glibc malloc arenas (64 MB anonymous mappings), and from the admin listener's /metrics the
# idle collections (heap.idle-gc) and whether the Jetty client has started. The admin listener is
# on for that, with its traces page on as bench/run.sh and users run it (MEMORY_TRACES_PAGE=0: off;
# before s16 the page's recent spans made 10-18 full collections per run, so s15 ran it off).
# MEMORY_SMAPS=1 adds RSS by mapping (anonymous, the heap's range, each file) from /proc/PID/smaps.
# wrk on CPU 0, backend and sidecar on CPU 1.
#
#   bench/lib/memory.sh [JAR] [inbound|outbound]     (wrap it in the shared bench lock)
#
# Environment: MEMORY_DURATION (15 s per run), MEMORY_WARMUP (20 s), MEMORY_IDLE (10 s),
# JAVA_OPTS (added after the launcher's flags, e.g. -Xmx64m), HOPTRACE_JAVA_OPTS (replaces them),
# HOPTRACE_RUN_ARGS (more `run` arguments), MEMORY_SEQUENCE=bench (bench/run.sh's phases instead:
# 1, 16 and 64 connections, then 2,000 req/s, MEMORY_DURATION each), MEMORY_FULL_GC=1 (a full collection at the end, and
# what it gave back), MEMORY_SOAK=SECONDS (then a run at MEMORY_SOAK_RATE req/s, default 6000: the
# ring at its cap, full collections and 503s from heap shedding counted). NMT itself costs a little memory and CPU: RSS here is a
# few MB above the bench's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=$(readlink -f "${1:-$here/../../proxy/target/hoptrace.jar}")
mode=${2:-inbound}
duration=${MEMORY_DURATION:-15}
warmup=${MEMORY_WARMUP:-20}
idle=${MEMORY_IDLE:-10}
work=$(mktemp -d /tmp/hoptrace-memory.XXXXXX)
# shellcheck source=bench/lib/sidecar.sh
source "$here/sidecar.sh"
# The admin listener, for /metrics (idle collections, Jetty started), and its traces page.
admin=$(free_port)
page=true
[[ ${MEMORY_TRACES_PAGE:-1} != 0 ]] || page=false
HOPTRACE_RUN_ARGS="--admin 127.0.0.1:$admin --set admin.traces-page=$page ${HOPTRACE_RUN_ARGS:-}"
start_sidecar "$mode" memory env HOPTRACE_JAR="$jar" HOPTRACE_CDS_ARCHIVE="${jar%.jar}.jsa" \
  JAVA_OPTS="-XX:NativeMemoryTracking=summary -Xlog:gc:file=$work/gc.log ${JAVA_OPTS:-}" \
  "$here/../../bin/hoptrace"

snapshot() { # label
  local label=$1 rss pss nmt heap=""
  rss=$(awk '/^Rss:/ { print int($2 / 1024) }' "/proc/$pid/smaps_rollup")
  pss=$(awk '/^Pss:/ { print int($2 / 1024) }' "/proc/$pid/smaps_rollup")
  # "Java Heap 74 Class 4 Thread 3 Code 10 GC 0 ... Other 20": committed MB per NMT part
  nmt=$(jcmd "$pid" VM.native_memory summary scale=KB 2>/dev/null | awk '
    /^-/ && /committed=/ { name = $0; sub(/^- */, "", name); sub(/ *\(.*/, "", name); gsub(/ /, "_", name)
      c = $0; sub(/.*committed=/, "", c); sub(/KB.*/, "", c); if (c + 0 >= 300) printf "%s=%.1f ", name, c / 1024 }
    /^Total:/ { c = $0; sub(/.*committed=/, "", c); sub(/KB.*/, "", c); printf "NMT_total=%.1f ", c / 1024 }')
  heap+=$(jcmd "$pid" GC.heap_info 2>/dev/null | awk '
    /def new generation|tenured generation/ { t = $4; u = $6; sub(/K,?/, "", t); sub(/K,?/, "", u); tc += t; tu += u }
    END { printf "heap_used=%.1f heap_committed=%.1f", tu / 1024, tc / 1024 }')
  # from the GC log: the launcher turns the perf data (jcmd PerfCounter.print, jstat) off
  heap+=$(awk '/Pause Young/ { y++ } /Pause Full/ { f++ } END { printf " young_gcs=%d full_gcs=%d", y, f }' "$work/gc.log")
  # hoptrace's own: idle collections (heap.idle-gc) and whether the Jetty client has started
  heap+=$(curl -s "http://127.0.0.1:$admin/metrics" | awk '
    /^hoptrace_heap_idle_gc_total / { g = $2 } /^hoptrace_upstream_jetty_started / { j = $2 }
    END { printf " idle_gcs=%d jetty_started=%d", g, j }')
  echo "== $label: RSS ${rss} MB, PSS ${pss} MB, threads $(ls "/proc/$pid/task" | wc -l)," \
    "malloc arenas $(pmap "$pid" | awk '$2 == "65536K" || $2 ~ /^6[0-5][0-9][0-9][0-9]K$/ { n++ } END { print n + 0 }')," \
    "load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "   $heap $nmt"
  [[ -z ${MEMORY_SMAPS:-} ]] || smaps
}

smaps() { # resident MB by mapping: anonymous (split at the Java heap's range) and per file
  local lo hi
  # the heap's reserved range: young generation's start to the tenured generation's reserved end
  read -r lo hi < <(jcmd "$pid" GC.heap_info 2>/dev/null | awk '
    /def new generation/ { l = $0; sub(/.*\[/, "", l); sub(/,.*/, "", l) }
    /tenured generation/ { h = $0; sub(/\).*/, "", h); sub(/.*, */, "", h) }
    END { print l, h }')
  awk -v lo="$((${lo:-0}))" -v hi="$((${hi:-0}))" '
    /^[0-9a-f]+-[0-9a-f]+ / { split($1, r, "-"); start = strtonum("0x" r[1]); name = $6
      if (name == "") name = (start >= lo && start < hi) ? "anon:java-heap" : "anon"
      else if (name ~ /^\[/) name = "anon:" name; else { n = split(name, p, "/"); name = p[n] } next }
    /^Rss:/ { rss[name] += $2 }
    END { for (k in rss) if (rss[k] >= 512) printf "%s=%.1f ", k, rss[k] / 1024; print "" }' "/proc/$pid/smaps" |
    tr ' ' '\n' | sort -t= -k2 -rn | tr '\n' ' ' | sed 's/^/   smaps MB: /; s/ *$/\n/'
}

run() { # label wrk-args...
  local label=$1 out=$work/$1.txt requests t0 t1
  shift
  t0=$(ticks)
  taskset -c 0 wrk -t1 "$@" "$url" >"$out" 2>&1
  t1=$(ticks)
  requests=$(awk '/requests in/ { print $1 }' "$out")
  echo "-- $label: $requests requests, $(awk '/Non-2xx/ { n = $NF } END { print n + 0 }' "$out") not 2xx, $(grep -o 'timeout [0-9]*' "$out" || echo 'timeout 0'), $(grep -o 'p50=[0-9]* p90=[0-9]* p99=[0-9]*' "$out" || true) us," \
    "CPU $(awk -v r="$requests" -v d="$((t1 - t0))" -v tick="$((1000000 / $(getconf CLK_TCK)))" \
      'BEGIN { printf "%.1f", d * tick / r }') us/req"
  snapshot "$label"
}

echo "hoptrace $mode, $jar; JAVA_OPTS=${JAVA_OPTS:-}; warm-up ${warmup}s at 16 connections"
snapshot start
taskset -c 0 wrk -t1 -c16 -d"${warmup}s" -s "$here/closed.lua" "$url" >/dev/null 2>&1
snapshot warm-up
if [[ ${MEMORY_SEQUENCE:-} == bench ]]; then # bench/run.sh's phases for one row, in its order
  for c in 1 16 64; do run "c$c" "-c$c" -d"${duration}s" -s "$here/closed.lua"; done
  BENCH_RATE=2000 run rate2000 -c20 -d"${duration}s" -s "$here/paced.lua"
else
  BENCH_RATE=2000 run rate2000 -c20 -d"${duration}s" -s "$here/paced.lua"
  run c64 -c64 -d"${duration}s" -s "$here/closed.lua"
  sleep "$idle"
  snapshot "idle ${idle}s"
  BENCH_RATE=2000 run rate2000-again -c20 -d"${duration}s" -s "$here/paced.lua"
fi
if [[ -n ${MEMORY_SOAK:-} ]]; then # the ring at its cap: a long run at a rate above ring.cap / ring.period
  BENCH_RATE=${MEMORY_SOAK_RATE:-6000} run "soak${MEMORY_SOAK_RATE:-6000}" -c20 -d"${MEMORY_SOAK}s" -s "$here/paced.lua"
fi
if [[ -n ${MEMORY_FULL_GC:-} ]]; then # what a full collection would give back (live set, RSS)
  jcmd "$pid" GC.run >/dev/null
  sleep 3
  snapshot "after a full GC (jcmd GC.run)"
fi
echo "span lines: $(wc -l <"$work/spans.log"); work directory: $work"
