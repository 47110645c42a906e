#!/usr/bin/env bash
# Are outbound calls still linked to the inbound requests that caused them at high rates, for a
# given ring.cap (bench/README.md, "Shipped trades (s17)")? wrk -> hoptrace inbound -> an app
# (nginx) -> hoptrace route -> backend (nginx). The app makes one call per request through the
# route. Every request has a path of its own (numbered.lua), so a CLIENT span is correct when its
# parent is the SERVER span of the same path. Two apps (LINKS_MODE):
#   during  the call is made while the request is in flight, with no trace header and no request
#           id forwarded (the correlator infers: sole / inferred; the in-flight ring);
#   late    the call is made after the response (nginx post_action), forwarding only the
#           X-Request-Id hoptrace gave the request: a header link found in the store of ended
#           requests, the part of the ring ring.cap bounds per generation.
# LINKS_BULK=N adds, during each run, N more connections of requests that make no call (the app
# answers /r/bulk/ itself): the ring then sees the bench's inbound rates while the scored requests
# are the run's own. Prints per run the rate of inbound requests, the CLIENT spans by link kind, how many had the
# right parent, and the ring's refusals (hoptrace_ring_refused). wrk on CPU 0, the rest on CPU 1.
#
#   bench/lib/ring-links.sh [JAR]      (wrap it in the shared bench lock)
#
# Environment: LINKS_MODE (during), LINKS_RUNS ("c16 c64": cNN closed loop, rate:N paced),
# LINKS_BULK (0), LINKS_DURATION (10 s per run), LINKS_WARMUP (10 s at 16 connections, not scored),
# HOPTRACE_RUN_ARGS (e.g. "--set ring.cap=20000"), JAVA_OPTS (after the launcher's flags).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=$(readlink -f "${1:-$here/../../proxy/target/hoptrace.jar}")
mode=${LINKS_MODE:-during}
runs=${LINKS_RUNS:-c16 c64}
duration=${LINKS_DURATION:-10}
warmup=${LINKS_WARMUP:-10}
work=$(mktemp -d /tmp/hoptrace-links.XXXXXX)
# shellcheck source=bench/lib/nginx.sh
source "$here/nginx.sh"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
backend=$(free_port) app=$(free_port) inbound=$(free_port) outbound=$(free_port) route=$(free_port) admin=$(free_port)
write_backend_conf "$work/backend" "$backend"

# The app: every trace header hoptrace gave the request is dropped from the call; "late" keeps
# the request id and makes the call after the response.
strip='proxy_set_header traceparent ""; proxy_set_header tracestate ""; proxy_set_header b3 "";
      proxy_set_header X-B3-TraceId ""; proxy_set_header X-B3-SpanId "";
      proxy_set_header X-B3-ParentSpanId ""; proxy_set_header X-B3-Sampled "";'
case $mode in
  during) locations="location / { proxy_pass http://route; proxy_http_version 1.1;
      proxy_set_header Connection \"\"; $strip proxy_set_header X-Request-Id \"\"; }" ;;
  late) locations="location / { default_type application/json; return 200 '{\"ok\":true}\n';
      post_action @late; }
    location @late { proxy_pass http://route; proxy_http_version 1.1;
      proxy_set_header Connection \"\"; $strip }" ;;
  *) echo "ring-links.sh: LINKS_MODE during or late" >&2; exit 2 ;;
esac
mkdir -p "$work/app"
cat >"$work/app/nginx.conf" <<CONF
$(nginx_conf_head "$work/app")
http {
  access_log off;
$(nginx_http_common "$work/app")
  upstream route { server 127.0.0.1:$route; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:$app backlog=4096;
    location /r/bulk/ { default_type application/json; return 200 '{"ok":true}\n'; }
    $locations
  }
}
CONF
taskset -c 1 nginx -p "$work/backend" -c "$work/backend/nginx.conf" &
backend_pid=$!
taskset -c 1 nginx -p "$work/app" -c "$work/app/nginx.conf" &
app_pid=$!
# shellcheck disable=SC2086 # HOPTRACE_RUN_ARGS is a list
HOPTRACE_JAR=$jar HOPTRACE_CDS_ARCHIVE=${jar%.jar}.jsa JAVA_OPTS=${JAVA_OPTS:-} \
  taskset -c 1 "$here/../../bin/hoptrace" run --service links --inbound "127.0.0.1:$inbound" \
  --app "127.0.0.1:$app" --outbound "127.0.0.1:$outbound" --admin "127.0.0.1:$admin" \
  --span-log "$work/spans.log" --set span-log.rotate-size=0 \
  --set routes.callee.listen="$route" --set routes.callee.upstream="127.0.0.1:$backend" \
  ${HOPTRACE_RUN_ARGS:-} >"$work/stdout.log" 2>"$work/stderr.log" &
pid=$!
trap 'kill "$pid" "$backend_pid" "$app_pid" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$inbound/" && break; sleep 0.2; done
export BENCH_TARGET=""
refused() { curl -s "http://127.0.0.1:$admin/metrics" | awk '/^hoptrace_ring_refused / { print $2 + 0 }'; }

echo "ring links, $mode, $jar; HOPTRACE_RUN_ARGS=${HOPTRACE_RUN_ARGS:-}; JAVA_OPTS=${JAVA_OPTS:-}; runs: $runs"
((warmup == 0)) || taskset -c 0 wrk -t1 -c16 -d"${warmup}s" -s "$here/numbered.lua" "http://127.0.0.1:$inbound/r/warmup" >/dev/null 2>&1
bulk=${LINKS_BULK:-0}
for r in $runs; do
  before=$(refused)
  bulk_pid=""
  if ((bulk > 0)); then
    taskset -c 0 wrk -t1 -c"$bulk" -d"${duration}s" -s "$here/numbered.lua" "http://127.0.0.1:$inbound/r/bulk" >"$work/bulk-$r.txt" 2>&1 &
    bulk_pid=$!
  fi
  case $r in
    rate:*) BENCH_RATE=${r#rate:} taskset -c 0 wrk -t1 -c20 -d"${duration}s" -s "$here/numbered.lua" "http://127.0.0.1:$inbound/r/$r" >"$work/$r.txt" 2>&1 ;;
    c*) taskset -c 0 wrk -t1 -c"${r#c}" -d"${duration}s" -s "$here/numbered.lua" "http://127.0.0.1:$inbound/r/$r" >"$work/$r.txt" 2>&1 ;;
    *) echo "ring-links.sh: unknown run $r" >&2; exit 2 ;;
  esac
  [[ -z $bulk_pid ]] || wait "$bulk_pid"
  sleep 1 # post_action calls still running
  echo "== $r: $(awk '/requests in/ { print $1 }' "$work/$r.txt") requests, $(awk '/Non-2xx/ { n = $NF } END { print n + 0 }' "$work/$r.txt") not 2xx;" \
    "bulk $(awk '/requests in/ { print $1 }' "$work/bulk-$r.txt" 2>/dev/null || echo 0) requests;" \
    "ring refused +$(($(refused) - before)); load $(cut -d' ' -f1-3 /proc/loadavg)"
done
kill "$pid"; wait "$pid" 2>/dev/null || true # flushes the span log
# shellcheck disable=SC2086 # runs is a list
python3 - "$work/spans.log" "$duration" $runs <<'PY'
import json, sys
path, duration, runs = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
server, client = {}, {}
for line in open(path):
    s = json.loads(line)
    p = s.get("tags", {}).get("http.path", "")
    parts = p.split("/")  # /r/<run>/<thread>-<n>
    if len(parts) < 4: continue
    (server if s["kind"] == "SERVER" else client)[(parts[2], parts[3])] = s
for run in runs:
    n = sum(1 for k in server if k[0] == run)
    kinds, right = {}, {}
    for k, c in client.items():
        if k[0] != run: continue
        link = c["tags"].get("hoptrace.link", "?")
        kinds[link] = kinds.get(link, 0) + 1
        srv = server.get(k)
        if srv is not None and c.get("parentId") == srv["id"] and c["traceId"] == srv["traceId"]:
            right[link] = right.get(link, 0) + 1
    calls = sum(kinds.values())
    ok = sum(right.values())
    detail = ", ".join(f"{l} {kinds[l]} ({right.get(l, 0)} right)" for l in sorted(kinds))
    print(f"-- {run}: {n} SERVER spans ({n / duration:,.0f}/s), {calls} CLIENT spans, "
          f"{ok} with the right parent ({100 * ok / calls if calls else 0:.2f} %): {detail}")
PY
echo "work directory: $work"
