# shellcheck shell=bash
# The stage of the scripts that measure one sidecar (alloc.sh, memory.sh, threads.sh, profile.sh,
# syscalls.sh): a backend
# nginx and one sidecar in front of it, both on CPU 1 (wrk goes on CPU 0), stopped when the script
# exits. Source it, set `work` (a scratch directory), then:
#
#   start_sidecar MODE PATH COMMAND...
#
# COMMAND starts hoptrace (the launcher or `java ... -jar JAR`, with what environment it needs);
# the `run` arguments are added (service bench-a, inbound, app, outbound, span log in $work, then
# HOPTRACE_RUN_ARGS). Waits until the inbound port answers, then sets pid (the sidecar's),
# backend_pid, url (the inbound port, or the forward-proxy port when MODE is outbound: an app with
# HTTP_PROXY sending absolute-form requests to /r/PATH) and exports BENCH_TARGET for the wrk scripts.
# Both hops' are kept too, for scripts that drive both in one sidecar: inbound_url, outbound_url and
# outbound_target (BENCH_TARGET for outbound_url). SIDECAR_INBOUND_FIRST=N (seconds) sends N s of
# 16-connection inbound traffic before anything else, as the bench's sidecar A has served the
# inbound row before its outbound row (the correlator then holds ended inbound requests).
#
#   start_launched_sidecar MODE PATH JAR [JAVA_OPTS]
#
# The same through the launcher (bin/hoptrace: the JVM flags users run), on JAR, with its class-data
# archive when JAR.jsa exists (an archive holds for one jar path only), JAVA_OPTS after the
# launcher's flags.

# shellcheck source=bench/lib/nginx.sh
source "$(dirname "${BASH_SOURCE[0]}")/nginx.sh"

# The sidecar's CPU so far: utime + stime of process $pid (start_*sidecar sets it), in clock ticks.
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }

# SECONDS at 2,000 req/s through $url (wrk on CPU 0, paced; its output in $work/wrk.txt), then one
# line: "LABEL: N requests; CPU X us/req; p50=.. p90=.. p99=.." (the sidecar's /proc ticks, wrk's us).
rate_window() { # seconds label
  local t0 t1 r
  t0=$(ticks)
  BENCH_RATE=2000 taskset -c 0 wrk -t1 -c20 -d"$1s" -s "$(dirname "${BASH_SOURCE[0]}")/paced.lua" \
    "$url" >"$work/wrk.txt" 2>&1
  t1=$(ticks)
  r=$(awk '/requests in/ { print $1 }' "$work/wrk.txt")
  echo "$2: $r requests; CPU $(((t1 - t0) * 1000000 / $(getconf CLK_TCK) / r)) us/req;" \
    "$(grep -o 'p50=[0-9]* p90=[0-9]* p99=[0-9]*' "$work/wrk.txt")"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The bench's nginx sidecar in front of its backend, both on CPU 1, instead of a hoptrace one:
# sets pid, backend_pid, inbound (its port), url (GET /r/<path>) and mode=inbound.
# shellcheck disable=SC2154,SC2034 # work comes from the sourcing script; url is for it
start_nginx_sidecar() { # path
  local backend
  mode=inbound
  backend=$(free_port) inbound=$(free_port)
  write_backend_conf "$work/backend" "$backend"
  taskset -c 1 nginx -p "$work/backend" -c "$work/backend/nginx.conf" &
  backend_pid=$!
  write_nginx_sidecar_conf "$work/sidecar" "$inbound" "$backend" "$work/spans.log"
  taskset -c 1 nginx -p "$work/sidecar" -c "$work/sidecar/nginx.conf" &
  pid=$!
  trap 'kill "$pid" "$backend_pid" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
  for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$inbound/" && break; sleep 0.2; done
  url=http://127.0.0.1:$inbound/r/$1
  export BENCH_TARGET=""
}

# shellcheck disable=SC2154,SC2034 # work comes from the sourcing script; url is for it
start_sidecar() { # mode path command...
  local mode=$1 path=$2 backend inbound outbound
  shift 2
  backend=$(free_port) inbound=$(free_port) outbound=$(free_port)
  write_backend_conf "$work/backend" "$backend"
  taskset -c 1 nginx -p "$work/backend" -c "$work/backend/nginx.conf" &
  backend_pid=$!
  # shellcheck disable=SC2086 # HOPTRACE_RUN_ARGS is a list
  taskset -c 1 "$@" run --service bench-a --inbound "127.0.0.1:$inbound" \
    --app "127.0.0.1:$backend" --outbound "127.0.0.1:$outbound" --span-log "$work/spans.log" \
    --set span-log.rotate-size=0 ${HOPTRACE_RUN_ARGS:-} >"$work/stdout.log" 2>"$work/stderr.log" &
  pid=$!
  trap 'kill "$pid" "$backend_pid" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
  for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$inbound/" && break; sleep 0.2; done

  inbound_url=http://127.0.0.1:$inbound/r/$path
  # an app with HTTP_PROXY: absolute-form requests to the forward-proxy port
  outbound_url=http://127.0.0.1:$outbound/r/$path
  outbound_target=http://127.0.0.1:$backend/r/$path
  if [[ ${SIDECAR_INBOUND_FIRST:-0} != 0 ]]; then
    BENCH_TARGET="" taskset -c 0 wrk -t1 -c16 -d"${SIDECAR_INBOUND_FIRST}s" \
      -s "$(dirname "${BASH_SOURCE[0]}")/closed.lua" "$inbound_url" >/dev/null 2>&1
  fi
  if [[ $mode == inbound ]]; then
    url=$inbound_url
    export BENCH_TARGET=""
  else
    url=$outbound_url
    export BENCH_TARGET=$outbound_target
  fi
}

start_launched_sidecar() { # mode path jar [java-opts]
  local mode=$1 path=$2 jar=$3 archive=${3%.jar}.jsa
  [[ -f "$archive" ]] || archive=/nonexistent
  start_sidecar "$mode" "$path" env HOPTRACE_JAR="$jar" HOPTRACE_CDS_ARCHIVE="$archive" \
    JAVA_OPTS="${4:-}" "$(dirname "${BASH_SOURCE[0]}")/../../bin/hoptrace"
}
