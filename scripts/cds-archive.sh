#!/usr/bin/env bash
# Makes hoptrace's class-data archive: one static archive (-Xshare:dump) of exactly the classes a
# sidecar loads, the JDK's and hoptrace's. A training run starts the sidecar through bin/hoptrace
# with -XX:DumpLoadedClassList, sends requests through its inbound, outbound and admin listeners
# (so the classes of the request path load) and stops it; then -Xshare:dump
# -XX:SharedClassListFile writes OUT from that list. bin/hoptrace maps OUT (-XX:SharedArchiveFile)
# when it is newer than the jar: measured 40 % less CPU to start and ~19 MB less RSS idle against
# no archive (bench/README.md "JVM flags").
# Why one static archive rather than the JDK's archive plus a dynamic one of hoptrace's classes
# (-XX:ArchiveClassesAtExit, until session 21): this JDK 17 maps every archive at a random address
# (ArchiveRelocationMode=1, a diagnostic flag) and so writes nearly every page of it at start,
# private memory; the JDK's archive holds ~1,400 classes hoptrace never loads, and those pages
# were resident too (bench/README.md "One class-data archive (s21)").
# The archive holds only for the java and the jar path it was made with: the Dockerfile makes it
# in the runtime stage, with the image's own paths; CI makes one and starts on it
# (scripts/check-runtime.sh). JAVA_OPTS reach the training run and the dump (an archive made
# without, e.g., -XX:+UseCompactObjectHeaders does not map with it).
#
# usage: scripts/cds-archive.sh JAVA JAR OUT
set -euo pipefail
java=${1:?usage: scripts/cds-archive.sh JAVA JAR OUT}
jar=${2:?usage: scripts/cds-archive.sh JAVA JAR OUT}
out=${3:?usage: scripts/cds-archive.sh JAVA JAR OUT}
launcher=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../bin/hoptrace
[[ -x "$launcher" ]] || launcher=$(dirname "$(readlink -f "$jar")")/bin/hoptrace
[[ -x "$launcher" ]] || { echo "cds-archive: bin/hoptrace not found" >&2; exit 1; }
work=$(mktemp -d)
pid="" app_pid=""
cleanup() {
  for p in $pid $app_pid; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
rm -f "$out"

# Two sidecars: B stands in for the app (its admin listener answers /healthz with 200); A, the
# one whose classes are archived, forwards to it inbound and outbound (a sidecar refuses to
# forward to its own ports, so B is needed for the success paths).
port() { # log name (the log may not exist yet: the shell that starts hoptrace creates it)
  sed -n "s/^hoptrace: $2 listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p" "$1" 2>/dev/null | sed -n 1p
}
await() { # pid log name... -> sets the named variables to their ports
  local p=$1 log=$2 name
  shift 2
  for _ in $(seq 1 300); do
    local all=true
    for name in "$@"; do
      printf -v "$name" '%s' "$(port "$log" "$name")"
      [[ -n "${!name}" ]] || all=false
    done
    $all && return 0
    kill -0 "$p" 2>/dev/null || break
    sleep 0.1
  done
  echo "cds-archive: hoptrace did not start" >&2
  cat "$log" >&2
  return 1
}
inbound="" outbound="" admin="" # set by await
JAVA=$java HOPTRACE_JAR=$jar HOPTRACE_CDS_ARCHIVE=/nonexistent "$launcher" run --service cds-app \
  --inbound 127.0.0.1:0 --admin 127.0.0.1:0 --app 127.0.0.1:9 --span-log "$work/app-spans.log" \
  >/dev/null 2>"$work/app.log" &
app_pid=$!
await "$app_pid" "$work/app.log" admin
app_admin=$admin
JAVA=$java HOPTRACE_JAR=$jar HOPTRACE_CDS_ARCHIVE=/nonexistent \
  JAVA_OPTS="${JAVA_OPTS:-} -XX:DumpLoadedClassList=$work/classes.list" \
  "$launcher" run --service cds-training --inbound 127.0.0.1:0 --outbound 127.0.0.1:0 \
  --admin 127.0.0.1:0 --app "127.0.0.1:$app_admin" --span-log "$work/spans.log" \
  >"$work/out.log" 2>"$work/err.log" &
pid=$!
await "$pid" "$work/err.log" inbound outbound admin

request() { # port target -> status line
  exec 3<>"/dev/tcp/127.0.0.1/$1"
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3
  sed -n 1p <&3
  exec 3<&-
}
for _ in $(seq 1 20); do
  request "$inbound" /healthz >/dev/null
  request "$outbound" "http://127.0.0.1:$app_admin/healthz" >/dev/null
  request "$admin" /metrics >/dev/null
done
status=$(request "$inbound" /healthz)
[[ "$status" == *" 200 "* ]] || { echo "cds-archive: no 200 through the inbound hop: $status" >&2; exit 1; }
status=$(request "$outbound" "http://127.0.0.1:$app_admin/healthz")
[[ "$status" == *" 200 "* ]] || { echo "cds-archive: no 200 through the outbound hop: $status" >&2; exit 1; }

kill -TERM "$pid"
wait "$pid" || true
pid=""
[[ -s "$work/classes.list" ]] || { echo "cds-archive: the JVM listed no classes" >&2; cat "$work/err.log" >&2; exit 1; }

# The dump's class path is the jar's path, as -jar gives it at run time (the archive checks it).
read -r -a extra <<<"${JAVA_OPTS:-}"
"$java" "${extra[@]}" -Xshare:dump -XX:SharedClassListFile="$work/classes.list" \
  -XX:SharedArchiveFile="$out" -cp "$jar" >"$work/dump.log" 2>&1 \
  || { echo "cds-archive: -Xshare:dump failed" >&2; cat "$work/dump.log" >&2; rm -f "$out"; exit 1; }
[[ -s "$out" ]] || { echo "cds-archive: the JVM wrote no archive" >&2; cat "$work/dump.log" >&2; exit 1; }
echo "cds-archive: $out ($(du -h "$out" | cut -f1), $(grep -c '^[^#@]' "$work/classes.list") classes)"
