#!/usr/bin/env bash
# What `jcmd PID JFR.start` does to a warmed sidecar under load (bench/README.md, "JFR on a running
# sidecar (s28)"): one inbound sidecar through the launcher (JAVA_OPTS after its flags), 15 s at 16
# connections and 5 s at 2,000 req/s, then JFR.start with default settings and four 10 s windows
# at 2,000 req/s, each with the requests served, the sidecar's CPU per request (/proc ticks) and
# wrk's p50/p90/p99 in us. LIVE_JFR_SKIP=1 leaves the JFR.start out (a control).
#
#   bench/lib/live-jfr.sh [JAR] [JAVA_OPTS]     (wrap it in the shared bench lock)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=$(readlink -f "${1:-$here/../../proxy/target/hoptrace.jar}")
work=$(mktemp -d /tmp/hoptrace-live-jfr.XXXXXX)
# shellcheck source=bench/lib/sidecar.sh
source "$here/sidecar.sh"
start_launched_sidecar inbound livejfr "$jar" "${2:-}"
echo "hoptrace inbound, $jar, JAVA_OPTS '${2:-}'; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
taskset -c 0 wrk -t1 -c16 -d15s -s "$here/closed.lua" "$url" >/dev/null 2>&1
rate_window 5 "before (5 s)"
[[ -n ${LIVE_JFR_SKIP:-} ]] || jcmd "$pid" JFR.start name=live >/dev/null
for i in 1 2 3 4; do rate_window 10 "+$(((i - 1) * 10))-$((i * 10)) s"; done
echo "load $(cut -d' ' -f1-3 /proc/loadavg); work directory: $work" >&2
