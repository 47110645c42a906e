# shellcheck shell=bash
# Starting hoptrace sidecars for the bench (DESIGN.md CLI: `hoptrace.jar run ...`).

# Sets HOPTRACE_SKIP (why the hoptrace rows cannot run yet; empty if they can) and what this
# build's `run` offers: HOPTRACE_HAS_OUTBOUND, HOPTRACE_HAS_ADMIN, HOPTRACE_HAS_SET.
probe_hoptrace() {
  HOPTRACE_SKIP="" HOPTRACE_HAS_OUTBOUND=false HOPTRACE_HAS_ADMIN=false HOPTRACE_HAS_SET=false
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
  [[ "$help" != *--admin* ]] || HOPTRACE_HAS_ADMIN=true
  [[ "$help" != *--set* ]] || HOPTRACE_HAS_SET=true
}

# The class-data archive the launcher maps ("/nonexistent" for none: BENCH_CDS=0).
hoptrace_archive() {
  if [[ "$HOPTRACE_CDS" == 1 ]]; then echo "${HOPTRACE_JAR%.jar}.jsa"; else echo /nonexistent; fi
}

# Makes the class-data archive the image ships (scripts/cds-archive.sh) when it is missing or
# older than the jar, so that the rows start as the image does; without it they run anyway.
ensure_archive() {
  local archive
  archive=$(hoptrace_archive)
  [[ "$HOPTRACE_CDS" == 1 && -z "$HOPTRACE_SKIP" ]] || return 0
  [[ ! -f "$archive" || "$HOPTRACE_JAR" -nt "$archive" ]] || return 0
  log "making the class-data archive (scripts/cds-archive.sh)"
  "$REPO_DIR/scripts/cds-archive.sh" "$HOPTRACE_JAVA" "$HOPTRACE_JAR" "$archive" >"$WORK/cds.log" 2>&1 ||
    log "no class-data archive (see $WORK/cds.log with --keep); hoptrace runs without one"
}

# The command the launcher runs (its dry run), for the results file.
hoptrace_command() {
  # shellcheck disable=SC2086 # HOPTRACE_ENV is a list
  env ${HOPTRACE_ENV:-} JAVA="$HOPTRACE_JAVA" HOPTRACE_JAR="$HOPTRACE_JAR" HOPTRACE_CDS_ARCHIVE="$(hoptrace_archive)" \
    HOPTRACE_DRY_RUN=1 "$HOPTRACE_LAUNCHER" run ... 2>&1 | sed "s|$REPO_DIR/||g"
}

# Starts one sidecar on CPU $SERVER_CPU as a child of this shell; its PID goes to $STARTED_PID.
# Listeners bind 127.0.0.1 only. An empty outbound or admin port leaves that listener out; the admin
# listener is only read between rows (dropped span lines). The span log is not rotated
# (HOPTRACE_RUN_ARGS), so every line of a row can be counted. Output goes to $dir/std{out,err}.log.
start_hoptrace() { # dir service inbound_port app outbound_port span_log admin_port
  local dir=$1 service=$2 inbound=$3 app=$4 outbound=$5 spans=$6 admin=${7:-}
  local args=(run --service "$service" --inbound "127.0.0.1:$inbound" --app "$app")
  [[ -z "$outbound" ]] || args+=(--outbound "127.0.0.1:$outbound")
  [[ -z "$admin" ]] || args+=(--admin "127.0.0.1:$admin")
  args+=(--span-log "$spans")
  # shellcheck disable=SC2206 # a list of extra arguments
  if $HOPTRACE_HAS_SET; then args+=(${HOPTRACE_RUN_ARGS-"--set" "span-log.rotate-size=0"}); fi
  mkdir -p "$dir"
  # shellcheck disable=SC2086 # HOPTRACE_ENV is a list
  env ${HOPTRACE_ENV:-} JAVA="$HOPTRACE_JAVA" HOPTRACE_JAR="$HOPTRACE_JAR" HOPTRACE_CDS_ARCHIVE="$(hoptrace_archive)" \
    $NICE taskset -c "$SERVER_CPU" "$HOPTRACE_LAUNCHER" "${args[@]}" \
    >"$dir/stdout.log" 2>"$dir/stderr.log" &
  STARTED_PID=$!
  track_pid "$STARTED_PID"
}

# "dropped refused": span lines the writer dropped (queue full) and requests the generation ring
# refused, from the admin listener's /metrics; "- -" without an admin listener.
hoptrace_drops() { # admin_port
  [[ -n "${1:-}" ]] || { echo "- -"; return; }
  { timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    printf "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3; cat <&3' "$1" 2>/dev/null || true; } |
    awk '$1 ~ /^hoptrace_spanlog_dropped/ { d += $2; seen = 1 } $1 ~ /^hoptrace_ring_refused/ { r += $2 }
         END { if (seen) printf "%d %d\n", d, r; else print "- -" }'
}

# Waits until a started sidecar listens on a port; if it does not, prints why and returns 1. Gives
# up at once when its stderr matches give_up (a build announcing that a listener is not there).
await_hoptrace() { # pid dir port [give_up]
  local pid=$1 dir=$2 port=$3 give_up=${4:-} i
  for ((i = 0; i < HOPTRACE_START_TIMEOUT * 20; i++)); do
    if [[ -n "$give_up" ]] && grep -q -i -E "$give_up" "$dir/stderr.log" 2>/dev/null; then
      echo "$(grep -i -m1 -E "$give_up" "$dir/stderr.log")"
      return 1
    fi
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
