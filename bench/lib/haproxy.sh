# shellcheck shell=bash
# HAProxy configured as a tracing sidecar: 1 thread, new ids on every request (a UUID v4 without
# dashes = trace id, 16 hex of a second UUID = span id), traceparent and X-Request-Id set upstream,
# one JSON line per request written raw to stdout, which is redirected to the span file.
write_haproxy_sidecar_conf() { # dir port backend_port
  local dir=$1 port=$2 backend=$3
  mkdir -p "$dir"
  cat >"$dir/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 4096
  log stdout format raw local0

defaults
  mode http
  log global
  option http-keep-alive
  option dontlognull
  http-reuse always
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 75s

frontend sidecar
  bind 127.0.0.1:$port
  unique-id-format %[uuid]
  http-request set-var(txn.trace) unique-id,regsub(-,,g)
  http-request set-var(txn.span) uuid,regsub(-,,g),bytes(0,16)
  http-request set-header traceparent "00-%[var(txn.trace)]-%[var(txn.span)]-01"
  http-request set-header X-Request-Id %[unique-id]
  log-format '{"traceId":"%[var(txn.trace)]","id":"%[var(txn.span)]","kind":"SERVER","name":"%HM %{+E}HPO","timestamp":%Ts%ms,"duration":%Ta,"localEndpoint":{"serviceName":"bench"},"remoteEndpoint":{"ipv4":"%ci","port":%cp},"tags":{"http.method":"%HM","http.path":"%{+E}HPO","http.status_code":"%ST","http.request_id":"%ID","upstream":"%si:%sp","upstream_time":"%Tr"}}'
  default_backend app

backend app
  server app 127.0.0.1:$backend maxconn 1024
CONF
}

# Starts HAProxy on CPU $SERVER_CPU in the foreground, as a child of this shell; its stdout (the JSON
# lines) goes to $2, its PID to $STARTED_PID.
start_haproxy() { # dir span_log
  local dir=$1 spans=$2
  # shellcheck disable=SC2086 # $NICE is empty or "nice -n N"
  $NICE taskset -c "$SERVER_CPU" haproxy -db -f "$dir/haproxy.cfg" >"$spans" 2>"$dir/stderr.log" &
  STARTED_PID=$!
  track_pid "$STARTED_PID"
}
