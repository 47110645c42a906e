#!/usr/bin/env bash
# Heap retained per remembered inbound request by the correlator's registry, for the
# propagation-core classes in $1 (default: this tree's, built by `mvn -pl propagation-core
# -DskipTests package`). Prints one line for N ended requests and one for N still in flight.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
classes=${1:-$here/../../propagation-core/target/classes}
n=${RING_HEAP_N:-200000}
for mode in ended inflight; do
  java -XX:+UseSerialGC -Xms1g -Xmx1g -cp "$classes" "$here/RingHeap.java" "$n" "$mode"
done
