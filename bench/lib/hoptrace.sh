# shellcheck shell=bash
# Starting hoptrace sidecars for the bench (DESIGN.md CLI: `hoptrace.jar run ...`).

# Sets HOPTRACE_SKIP (why the hoptrace rows cannot run yet; empty if they can) and
# HOPTRACE_HAS_OUTBOUND (whether this build's `run` has an outbound listener).
probe_hoptrace() {
  HOPTRACE_SKIP="" HOPTRACE_HAS_OUTBOUND=false
  local help
  if [[ ! -f "$HOPTRACE_JAR" ]]; then
    HOPTRACE_SKIP="hoptrace.jar not built ($HOPTRACE_JAR missing: mvn -B -q -DskipTests package)"
    return
  fi
  command -v "$HOPTRACE_JAVA" >/dev/null || { HOPTRACE_SKIP="$HOPTRACE_JAVA not found"; return; }
  if ! help=$("$HOPTRACE_JAVA" -jar "$HOPTRACE_JAR" run --help 2>&1); then
    HOPTRACE_SKIP="this hoptrace.jar has no \`run\` command yet (the proxy is not merged)"
    return
  fi
  [[ "$help" != *--outbound* ]] || HOPTRACE_HAS_OUTBOUND=true
}

# Starts one sidecar on CPU $SERVER_CPU as a child of this shell; its PID goes to $STARTED_PID.
# Listeners bind 127.0.0.1 only; the admin listener stays off (no --admin). An empty outbound
# port leaves the outbound listener out. Output goes to $dir/stdout.log and $dir/stderr.log.
start_hoptrace() { # dir service inbound_port app outbound_port span_log
  local dir=$1 service=$2 inbound=$3 app=$4 outbound=$5 spans=$6
  local args=(run --service "$service" --inbound "127.0.0.1:$inbound" --app "$app")
  [[ -z "$outbound" ]] || args+=(--outbound "127.0.0.1:$outbound")
  args+=(--span-log "$spans")
  mkdir -p "$dir"
  # shellcheck disable=SC2086 # HOPTRACE_ENV and HOPTRACE_JAVA_OPTS are lists
  env ${HOPTRACE_ENV:-} $NICE taskset -c "$SERVER_CPU" "$HOPTRACE_JAVA" $HOPTRACE_JAVA_OPTS -jar "$HOPTRACE_JAR" "${args[@]}" \
    >"$dir/stdout.log" 2>"$dir/stderr.log" &
  STARTED_PID=$!
  track_pid "$STARTED_PID"
}

# Waits until a started sidecar listens on a port; if it does not, prints why and returns 1.
await_hoptrace() { # pid dir port
  local pid=$1 dir=$2 port=$3 i
  for ((i = 0; i < HOPTRACE_START_TIMEOUT * 20; i++)); do
    if ! running "$pid"; then
      echo "hoptrace exited at startup: $(tail -n 3 "$dir/stderr.log" 2>/dev/null | tr '\n' ' ' | cut -c1-300)"
      return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "hoptrace did not listen on 127.0.0.1:$port within ${HOPTRACE_START_TIMEOUT}s: $(tail -n 3 "$dir/stderr.log" 2>/dev/null | tr '\n' ' ' | cut -c1-300)"
  return 1
}
