#!/usr/bin/env bash
# Where a hoptrace hop's CPU and context switches go, thread by thread (bench/README.md, "Profile
# findings (request path)", "CPU at a fixed rate (s16)"). Starts a backend nginx and one sidecar
# through the launcher (bin/hoptrace: the JVM flags users run), warms it up at 16 connections,
# then reads every thread's CPU time and voluntary+involuntary context switches from
# /proc/PID/task/*/ around each run and prints them per request, with the young/full collections
# of the run (from a -Xlog:gc file: the launcher turns the JVM's perf data off, so jstat cannot
# see the sidecar). CPU time comes from schedstat (nanoseconds; the scheduler's own account),
# ticks (utime+stime, 10 ms) beside it for the whole process. wrk on CPU 0, backend and sidecar on
# CPU 1.
#
#   bench/lib/threads.sh [JAR] [inbound|outbound]     (wrap it in the shared bench lock)
#
# Environment: THREADS_DURATION (10 s per run), THREADS_WARMUP (15 s), THREADS_RUNS (the runs, in
# order: "rate c16"; each word is rate[:REQ/S] (paced, 20 connections, default 2,000 req/s),
# cNN (closed loop, NN connections) or idle[:S] (nothing sent for THREADS_DURATION or S seconds:
# what the sidecar costs per second with no load), e.g. "rate rate rate c16 rate"; a word
# prefixed in/ or out/ sends to that hop instead of the one given on the command line, so both
# hops are measured in one sidecar, interleaved: "in/rate idle:3 out/rate idle:3"), JAVA_OPTS
# (added after the launcher's flags), HOPTRACE_JAVA_OPTS (replaces them), HOPTRACE_RUN_ARGS
# (more `run` arguments, e.g. "--set ring.period=3s"), THREADS_HISTO=1 (a heap histogram at the end), THREADS_JFR=1 (a JFR
# recording of the runs, settings=profile; its path is printed), THREADS_GCLOG=1 (-Xlog:gc into
# the work directory, printed per run), THREADS_JIT=1 (-XX:+PrintCompilation into the sidecar's
# stdout: compilations and deoptimisations per run, the code cache at the end). Each run ends with
# the sidecar's RSS and its peak so far (VmHWM: the largest RSS since start, warm-up included).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=$(readlink -f "${1:-$here/../../proxy/target/hoptrace.jar}")
mode=${2:-inbound}
duration=${THREADS_DURATION:-10}
warmup=${THREADS_WARMUP:-15}
runs=${THREADS_RUNS:-rate c16}
work=$(mktemp -d /tmp/hoptrace-threads.XXXXXX)
# Always a GC log: the collections of each run are counted from it (-XX:-UsePerfData in the
# launcher: no jstat); THREADS_GCLOG=1 also prints its lines per run.
opts="${JAVA_OPTS:-} -Xlog:gc:file=$work/gc.log:uptime"
[[ -z ${THREADS_JIT:-} ]] || opts="$opts -XX:+PrintCompilation"
# JFR started first in a warmed process deoptimizes the request path (alloc.sh): start it at launch
[[ -z ${THREADS_JFR:-} ]] || opts="$opts -XX:StartFlightRecording=duration=1s,filename=$work/launch.jfr"
# shellcheck source=bench/lib/sidecar.sh
source "$here/sidecar.sh"
start_launched_sidecar "$mode" threads "$jar" "$opts"

# "tid name ns switches" for every thread of the sidecar; ns from schedstat (time on a CPU)
snapshot() {
  local t name ns rest
  for t in /proc/"$pid"/task/*; do
    name=$(tr ' ' _ <"$t/comm" 2>/dev/null) || continue
    read -r ns rest <"$t/schedstat" 2>/dev/null || continue
    echo "${t##*/} $name $ns $(awk '/ctxt_switches/ { n += $2 } END { print n }' "$t/status" 2>/dev/null)"
  done | sort
}

# "young full pause-seconds" so far, from the GC log ("[1.2s] GC(7) Pause Young (Allocation
# Failure) 9M->3M(31M) 0.512ms"): nothing runs in the sidecar, and it needs no perf data
gcs() { awk '/Pause Young/ { y++ } /Pause Full/ { f++ } / [0-9.]+ms$/ { t += $NF }
  END { printf "%d %d %.6f\n", y, f, t / 1000 }' "$work/gc.log"; }

# per-thread deltas per request (per second when no request), threads that did something only;
# threads that started or ended during the run are counted from 0 or not at all
report() { # before after requests seconds
  join -a 2 -e 0 -o 2.1,2.2,1.3,1.4,2.3,2.4 "$1" "$2" | awk -v r="$3" -v s="$4" '
    { n = r > 0 ? r : s; cpu = ($5 - $3) / 1000 / n; cs = ($6 - $4) / n
      if (cs > 0.005 || cpu > 0.05) printf "  %-20s %8.2f %s %7.3f switches/%s\n", $2, cpu, (r > 0 ? "us/req" : "us/s  "), cs, (r > 0 ? "req" : "s")
      tc += cpu; tcs += cs }
    END { printf "  %-20s %8.2f %s %7.3f switches/%s\n", "all threads", tc, (r > 0 ? "us/req" : "us/s  "), tcs, (r > 0 ? "req" : "s") }'
}

run() { # label
  local label=$1 kind rate secs out requests=0 t0 t1 g0 g1 s0 s1 gclines jitlines url=$url
  local BENCH_TARGET=$BENCH_TARGET
  case $label in
    in/*) url=$inbound_url BENCH_TARGET="" ;;
    out/*) url=$outbound_url BENCH_TARGET=$outbound_target ;;
  esac
  export BENCH_TARGET
  label=${label#*/}
  kind=${label%%:*}
  out=$work/${label//\//_}.$RANDOM.txt
  rate=2000
  [[ $label != rate:* ]] || rate=${label#rate:}
  secs=$duration
  [[ $label != idle:* ]] || secs=${label#idle:}
  snapshot >"$work/before"
  g0=$(gcs) t0=$(ticks) s0=$(date +%s.%N)
  gclines=$(wc -l <"$work/gc.log")
  jitlines=$(wc -l <"$work/stdout.log")
  case $kind in
    rate) BENCH_RATE=$rate taskset -c 0 wrk -t1 -c20 -d"${duration}s" -s "$here/paced.lua" "$url" >"$out" 2>&1 ;;
    c*) taskset -c 0 wrk -t1 -c"${kind#c}" -d"${duration}s" -s "$here/closed.lua" "$url" >"$out" 2>&1 ;;
    idle) sleep "$secs"; : >"$out" ;;
    *) echo "threads.sh: unknown run $label" >&2; exit 2 ;;
  esac
  snapshot >"$work/after"
  g1=$(gcs) t1=$(ticks) s1=$(date +%s.%N)
  requests=$(awk '/requests in/ { print $1 }' "$out")
  requests=${requests:-0}
  echo "== $1: $requests requests in $(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.1f", b - a }') s, $(grep -o 'p50=[0-9]* p90=[0-9]* p99=[0-9]*' "$out" || true) us; load $(cut -d' ' -f1-3 /proc/loadavg)"
  awk -v a="$g0" -v b="$g1" -v r="$requests" -v tk=$((t1 - t0)) -v clk="$(getconf CLK_TCK)" -v s="$secs" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    printf "  GC: %d young, %d full, %.1f ms in pauses (%.2f us/req); process ticks %.2f us/%s\n",
      y[1] - x[1], y[2] - x[2], (y[3] - x[3]) * 1000, (r > 0 ? (y[3] - x[3]) * 1e6 / r : 0),
      tk * 1e6 / clk / (r > 0 ? r : s), (r > 0 ? "req" : "s") }'
  report "$work/before" "$work/after" "$requests" "$secs"
  if [[ -n ${THREADS_JIT:-} ]]; then
    tail -n +"$((jitlines + 1))" "$work/stdout.log" | awk '/^ *[0-9]+ +[0-9]+ / {
        if (/made not entrant/) d++; else if (/made zombie/) z++; else { c++; if ($3 ~ /%/ || $4 ~ /%/) o++ } }
      END { printf "  JIT: %d compilations (%d OSR), %d made not entrant, %d zombies\n", c, o, d, z }'
  fi
  # sed reads to the end: with head, tail could die of SIGPIPE and pipefail end the script
  if [[ -n ${THREADS_GCLOG:-} ]]; then tail -n +"$((gclines + 1))" "$work/gc.log" | sed -n "1,20s/^/  gc: /p"; fi
  awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { printf "  RSS %.1f MB at the end, peak so far %.1f MB\n", r / 1024, h / 1024 }' "/proc/$pid/status"
}

echo "hoptrace $mode, $jar; warm-up ${warmup}s at 16 connections; runs: $runs" >&2
((warmup == 0)) || taskset -c 0 wrk -t1 -c16 -d"${warmup}s" -s "$here/closed.lua" "$url" >/dev/null 2>&1
[[ -z ${THREADS_JFR:-} ]] || jcmd "$pid" JFR.start name=threads settings=profile filename="$work/threads.jfr" >/dev/null
for r in $runs; do run "$r"; done
[[ -z ${THREADS_HISTO:-} ]] || jcmd "$pid" GC.class_histogram | sed -n '1,15p;$p'
[[ -z ${THREADS_JIT:-} ]] || jcmd "$pid" Compiler.codecache | sed 's/^/  /'
[[ -z ${THREADS_JFR:-} ]] || { jcmd "$pid" JFR.stop name=threads >/dev/null; echo "JFR: $work/threads.jfr"; }
echo "span lines: $(wc -l <"$work/spans.log"); work directory: $work"
