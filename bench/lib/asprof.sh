#!/usr/bin/env bash
# Where one sidecar's CPU goes per request, with inlined frames: async-profiler (Maven Central's
# tools.profiler:async-profiler, fetched into the local repository on first use) loaded into a
# warmed sidecar, CPU samples (perf events) during a fixed-rate or closed-loop run, then
# bench/lib/asprof-summary.py. Unlike profile.sh (perf record + a perf map: an inlined method's
# samples count as its compiled caller's), the sidecar runs with -XX:+DebugNonSafepoints and the
# profiler resolves every inlined frame, so a cost is named where it is (bench/README.md "Latency
# reservoir (s27)" found the metrics' 1 µs/req that way). The agent is loaded after the warm-up
# (bench/lib/AgentAttach.java), so start-up and compilation are not in the profile.
# A backend nginx and the sidecar (the launcher's flags, its class-data archive when JAR.jsa
# exists) on CPU 1, wrk on CPU 0.
#
#   bench/lib/asprof.sh [JAR] [inbound|outbound] [FRAME]     (wrap it in the shared bench lock)
#
# FRAME: also print the time under that frame (a substring of its name), by callee.
# Environment: ASPROF_RATE (2000 req/s over 20 connections; 0 = a 16-connection closed loop),
# ASPROF_DURATION (15 s), ASPROF_WARMUP (25 s at 16 connections, then 10 s at the run's load),
# ASPROF_INTERVAL (200 µs of CPU per sample), ASPROF_VERSION (3.0), ASPROF_KEEP (a path: keep the
# collapsed stacks there), JAVA_OPTS (after the launcher's flags), HOPTRACE_RUN_ARGS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=$(readlink -f "${1:-$here/../../proxy/target/hoptrace.jar}")
mode=${2:-inbound}
focus=${3:-}
rate=${ASPROF_RATE:-2000}
duration=${ASPROF_DURATION:-15}
interval=${ASPROF_INTERVAL:-200}
version=${ASPROF_VERSION:-3.0}
work=$(mktemp -d /tmp/hoptrace-asprof.XXXXXX)

artifact=$HOME/.m2/repository/tools/profiler/async-profiler/$version/async-profiler-$version.jar
if [[ ! -f $artifact ]]; then
  mvn -B -q dependency:get -Dartifact="tools.profiler:async-profiler:$version" >&2
fi
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])' \
  "$artifact" linux-x64/libasyncProfiler.so "$work"
lib=$work/linux-x64/libasyncProfiler.so
[[ -f $lib ]] || { echo "asprof: no linux-x64 library in $artifact" >&2; exit 2; }

# shellcheck source=bench/lib/sidecar.sh
source "$here/sidecar.sh"
start_launched_sidecar "$mode" asprof "$jar" \
  "-XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints ${JAVA_OPTS:-}"

load() { # seconds output
  if [[ $rate != 0 ]]; then
    BENCH_RATE=$rate taskset -c 0 wrk -t1 -c20 -d"$1s" -s "$here/paced.lua" "$url" >"$2" 2>&1
  else
    taskset -c 0 wrk -t1 -c16 -d"$1s" -s "$here/closed.lua" "$url" >"$2" 2>&1
  fi
}
attach() { java "$here/AgentAttach.java" "$pid" "$lib" "$1"; }

echo "asprof: $jar, $mode, warm-up ${ASPROF_WARMUP:-25}s at 16 connections" >&2
taskset -c 0 wrk -t1 -c16 -d"${ASPROF_WARMUP:-25}s" -s "$here/closed.lua" "$url" >/dev/null 2>&1
load 10 "$work/warm.txt"
attach "start,event=cpu,interval=${interval}us"
load "$duration" "$work/run.txt"
attach "stop,file=$work/stacks.collapsed,collapsed"
[[ -s $work/stacks.collapsed ]] || { echo "asprof: no profile written" >&2; cat "$work/stdout.log" >&2; exit 1; }
requests=$(sed -n 's/^HOPBENCH requests=\([0-9]*\) .*/\1/p' "$work/run.txt")
[[ -n $requests ]] || requests=$(awk '/requests in/ { print $1 }' "$work/run.txt")
echo "== $requests requests ($( [[ $rate != 0 ]] && echo "$rate req/s" || echo "16 connections"), ${duration}s), sample every ${interval} us of CPU; load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$here/asprof-summary.py" "$work/stacks.collapsed" "$requests" "$interval" ${focus:+"$focus"}
[[ -z ${ASPROF_KEEP:-} ]] || cp "$work/stacks.collapsed" "$ASPROF_KEEP"
rm -rf "$work"
