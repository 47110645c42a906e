#!/usr/bin/env bash
# The stall of the Jetty client's lazy start on a fresh sidecar (bench/README.md, "Lazy Jetty start
# off the IO thread (s18)"): for each JAR in turn, RUNS times, a fresh sidecar through the launcher
# (no class-data archive, for both alike) in front of nginx, then jetty-start-stall.py: plain GETs
# on 16 keep-alive connections while the first Expect: 100-continue request (handed to Jetty)
# starts the Jetty client. One line per sidecar.
#
#   bench/lib/jetty-start-stall.sh JAR... (wrap it in the shared bench lock)
#
# Environment: RUNS (3), STALL_CONNECTIONS (16), STALL_DURATION (2 s).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runs=${RUNS:-3}
# shellcheck source=bench/lib/sidecar.sh
source "$here/sidecar.sh"
for r in $(seq "$runs"); do
  for jar in "$@"; do
    work=$(mktemp -d /tmp/hoptrace-stall.XXXXXX)
    (
      start_sidecar inbound stall env HOPTRACE_JAR="$(readlink -f "$jar")" \
        HOPTRACE_CDS_ARCHIVE=/nonexistent "$here/../../bin/hoptrace"
      echo "run $r $jar load=$(cut -d' ' -f1 /proc/loadavg) $(taskset -c 0 python3 \
        "$here/jetty-start-stall.py" "$inbound_url" "${STALL_CONNECTIONS:-16}" "${STALL_DURATION:-2}")"
    )
    rm -rf "$work"
  done
done
