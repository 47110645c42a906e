#!/usr/bin/env bash
# What the Jetty client's lazy start costs a fresh, idle sidecar (bench/README.md, "Jetty start wait
# (s19)"): RSS and loaded classes, and the time of the first request handed to Jetty. For JAR, RUNS
# times, a fresh sidecar through the launcher (with JAR's class-data archive when JAR.jsa exists)
# in front of nginx, then: 50 plain GETs (same-loop), idle, RSS; 50 more plain GETs, idle, RSS (the
# control: what serving alone adds); one POST with Expect: 100-continue (same-loop hands it to Jetty:
# it starts the client), idle, RSS; a second such POST. One line per sidecar: RSS after each step
# (VmRSS, MB), classes loaded / metaspace committed (MB, jcmd: its attach thread is there from the
# first reading), the two Expect requests' times (ms).
#
#   bench/lib/jetty-first-request.sh JAR (wrap it in the shared bench lock)
#
# Environment: RUNS (3), IDLE (3 s after each step), NMT=1 (native memory tracking on, which costs
# a few MB itself; then each run also prints what the Jetty step added, by NMT category).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=$(readlink -f "${1:?usage: jetty-first-request.sh JAR}")
runs=${RUNS:-3}
idle=${IDLE:-3}
rss() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
# classes loaded / metaspace committed (MB), from jcmd (the launcher turns jstat's perf data off)
classes() {
  jcmd "$1" VM.metaspace | awk '/^Total Usage/ {c = $6} $1 == "Both:" && !m {m = $7} END {print c "/" m}'
}
# 50 keep-alive GETs on one connection, each must answer 200 (same-loop's path: no Jetty)
fifty_gets() {
  python3 - "$1" >/dev/null <<'EOF'
import http.client, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
for _ in range(50):
    c.request("GET", u.path); r = c.getresponse(); r.read(); assert r.status == 200
EOF
}
# shellcheck source=bench/lib/sidecar.sh
source "$here/sidecar.sh"
for r in $(seq "$runs"); do
  work=$(mktemp -d /tmp/hoptrace-first.XXXXXX)
  (
    nmt=${NMT:-0}
    opts=""
    [[ $nmt == 0 ]] || opts=-XX:NativeMemoryTracking=summary
    start_launched_sidecar inbound first "$jar" "$opts"
    # the launcher execs java: $pid is the JVM
    sleep "$idle"
    fifty_gets "$inbound_url"
    sleep "$idle"
    rss0=$(rss "$pid") cls0=$(classes "$pid")
    fifty_gets "$inbound_url"
    sleep "$idle"
    rss1=$(rss "$pid") cls1=$(classes "$pid")
    [[ $nmt == 0 ]] || jcmd "$pid" VM.native_memory baseline >/dev/null
    expect='
import http.client, sys, time, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
t0 = time.monotonic()
c.request("POST", u.path, body=b"x" * 64, headers={"Expect": "100-continue"})
r = c.getresponse(); r.read(); assert r.status == 200, r.status
print("%.0f" % ((time.monotonic() - t0) * 1000))
'
    first=$(python3 -c "$expect" "$inbound_url")
    sleep "$idle"
    rss2=$(rss "$pid") cls2=$(classes "$pid")
    [[ $nmt == 0 ]] || jcmd "$pid" VM.native_memory summary.diff scale=KB |
      sed -n 's/^-  *\([A-Za-z ]*\) (reserved=[^,]*, committed=\([0-9]*\)KB \([+-][0-9]*\)KB).*/  nmt \1: committed \2 KB (\3 KB)/p; s/^Total: .*committed=\([0-9]*\)KB \([+-][0-9]*\)KB/  nmt total: committed \1 KB (\2 KB)/p'
    second=$(python3 -c "$expect" "$inbound_url")
    echo "run $r load=$(cut -d' ' -f1 /proc/loadavg) rss_mb plain=$rss0 plain2=$rss1" \
      "jetty=$rss2 classes plain=$cls0 plain2=$cls1 jetty=$cls2" \
      "expect_ms first=$first second=$second"
  )
  rm -rf "$work"
done
