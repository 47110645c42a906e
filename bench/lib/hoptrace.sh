# shellcheck shell=bash
# Starting hoptrace sidecars for the bench (DESIGN.md CLI: `hoptrace.jar run ...`).

# Why the hoptrace rows cannot run, or nothing if they can be tried.
hoptrace_unavailable() {
  if [[ ! -f "$HOPTRACE_JAR" ]]; then
    echo "hoptrace.jar not built ($HOPTRACE_JAR missing: mvn -B -q -DskipTests package)"
  elif ! command -v java >/dev/null; then
    echo "java not found"
  fi
}

# Starts one sidecar on CPU $SERVER_CPU as a child of this shell; its PID goes to $STARTED_PID. Ports must be free; the admin listener
# stays off (no --admin). Output goes to $dir/stdout.log and $dir/stderr.log.
start_hoptrace() { # dir service inbound_port app outbound_port span_log
  local dir=$1 service=$2 inbound=$3 app=$4 outbound=$5 spans=$6
  mkdir -p "$dir"
  # shellcheck disable=SC2086 # HOPTRACE_JAVA_OPTS is a list of JVM flags
  taskset -c "$SERVER_CPU" java $HOPTRACE_JAVA_OPTS -jar "$HOPTRACE_JAR" run \
    --service "$service" --inbound "$inbound" --app "$app" --outbound "$outbound" \
    --span-log "$spans" >"$dir/stdout.log" 2>"$dir/stderr.log" &
  STARTED_PID=$!
  track_pid "$STARTED_PID"
}

# Waits until a started sidecar listens on its ports; on failure prints why and returns 1.
await_hoptrace() { # pid dir port...
  local pid=$1 dir=$2 port i
  shift 2
  for port in "$@"; do
    for ((i = 0; i < HOPTRACE_START_TIMEOUT * 20; i++)); do
      if ! kill -0 "$pid" 2>/dev/null; then
        if grep -q "unknown command" "$dir/stderr.log" 2>/dev/null; then
          echo "hoptrace.jar has no \`run\` command yet (the proxy is not merged)"
        else
          echo "hoptrace exited at startup: $(tail -3 "$dir/stderr.log" "$dir/stdout.log" 2>/dev/null | tr '\n' ' ' | cut -c1-300)"
        fi
        return 1
      fi
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
      sleep 0.05
    done
    if ((i >= HOPTRACE_START_TIMEOUT * 20)); then
      echo "hoptrace did not listen on port $port within ${HOPTRACE_START_TIMEOUT}s"
      return 1
    fi
  done
}
