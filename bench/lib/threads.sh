#!/usr/bin/env bash
# Where a hoptrace hop's CPU and context switches go, thread by thread (bench/README.md, "Profile
# findings (request path)"). Starts a backend nginx and one sidecar (image JVM flags), warms it up
# at 16 connections, then reads every thread's utime+stime and voluntary+involuntary context
# switches from /proc/PID/task/*/ around a fixed-rate run (2,000 req/s) and a closed-loop run
# (16 connections), and prints them per request. wrk on CPU 0, backend and sidecar on CPU 1.
#
#   bench/lib/threads.sh [JAR] [inbound|outbound]     (wrap it in the shared bench lock)
#
# Environment: THREADS_DURATION (10 s per run), THREADS_WARMUP (15 s), HOPTRACE_RUN_ARGS (more
# `run` arguments, e.g. "--set ring.period=3s"), THREADS_HISTO=1 (a heap histogram at the end),
# THREADS_JFR=1 (a JFR recording of both runs, settings=profile; its path is printed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=${1:-$here/../../proxy/target/hoptrace.jar}
mode=${2:-inbound}
duration=${THREADS_DURATION:-10}
warmup=${THREADS_WARMUP:-15}
opts="-XX:+UseSerialGC -Xms32m -Xmx96m -Xss256k -XX:MaxMetaspaceSize=64m -XX:ReservedCodeCacheSize=32m -XX:+ExitOnOutOfMemoryError"
work=$(mktemp -d /tmp/hoptrace-threads.XXXXXX)
# shellcheck source=bench/lib/sidecar.sh
source "$here/sidecar.sh"
# shellcheck disable=SC2086 # opts is a list
start_sidecar "$mode" threads java $opts -jar "$jar"

# "tid name ticks switches" for every thread of the sidecar
snapshot() {
  local t name stat
  for t in /proc/"$pid"/task/*; do
    name=$(tr ' ' _ <"$t/comm")
    stat=$(sed 's/.*) //' "$t/stat")
    read -r -a f <<<"$stat"
    echo "${t##*/} $name $((f[11] + f[12])) $(awk '/ctxt_switches/ { n += $2 } END { print n }' "$t/status")"
  done | sort
}

# per-thread deltas per request, threads that did something only
report() { # before after requests
  join "$1" "$2" | awk -v r="$3" -v tick="$((1000000 / $(getconf CLK_TCK)))" '
    { cpu = ($6 - $3) * tick / r; cs = ($7 - $4) / r
      if (cs > 0.005 || cpu > 0.1) printf "  %-18s %8.2f us/req %7.3f switches/req\n", $2, cpu, cs
      tc += cpu; tcs += cs }
    END { printf "  %-18s %8.2f us/req %7.3f switches/req\n", "all threads", tc, tcs }'
}

run() { # label wrk-args...
  local label=$1 out=$work/$1.txt requests
  shift
  snapshot >"$work/$label.before"
  taskset -c 0 wrk -t1 "$@" "$url" >"$out" 2>&1
  snapshot >"$work/$label.after"
  requests=$(awk '/requests in/ { print $1 }' "$out")
  echo "== $label: $requests requests, $(grep -o 'p50=[0-9]* p90=[0-9]* p99=[0-9]*' "$out" || true) us; load $(cut -d' ' -f1-3 /proc/loadavg)"
  report "$work/$label.before" "$work/$label.after" "$requests"
}

echo "hoptrace $mode, $jar; warm-up ${warmup}s at 16 connections" >&2
taskset -c 0 wrk -t1 -c16 -d"${warmup}s" -s "$here/closed.lua" "$url" >/dev/null 2>&1
[[ -z ${THREADS_JFR:-} ]] || jcmd "$pid" JFR.start name=threads settings=profile filename="$work/threads.jfr" >/dev/null
BENCH_RATE=2000 run rate2000 -c20 -d"${duration}s" -s "$here/paced.lua"
run c16 -c16 -d"${duration}s" -s "$here/closed.lua"
[[ -z ${THREADS_HISTO:-} ]] || jcmd "$pid" GC.class_histogram | sed -n '1,15p;$p'
[[ -z ${THREADS_JFR:-} ]] || { jcmd "$pid" JFR.stop name=threads >/dev/null; echo "JFR: $work/threads.jfr"; }
echo "span lines: $(wc -l <"$work/spans.log"); work directory: $work"
