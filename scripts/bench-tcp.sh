#!/usr/bin/env bash
# Builds and runs the TCP benchmark (tests/bench/README.md, "TCP between two processes") in
# build-bench: Nodus over loopback next to a raw-socket baseline, in the same run. The server is
# a child process the benchmark forks and ends by its PID; nothing outlives the script.
#   scripts/bench-tcp.sh                          default sizes (20 000 round trips, 200 000 x 64 B, 5 000 x 64 KiB)
#   scripts/bench-tcp.sh LATENCY_N SMALL_N LARGE_N
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/build-bench.sh bench_tcp
build=build-bench

busy=$(./scripts/cpu-busy.sh)
echo "== $(nproc) cores, ${busy}% busy before the runs"
(( busy <= 10 )) || echo "bench-tcp.sh: warning: the machine is busy; the figures will be low and noisy" >&2

NODUS_LOG=${NODUS_LOG:-warn} "$build/tests/bench/bench_tcp" "$@" | tee "$build/bench_tcp.txt"

ratio=$(awk '$1 == "ratio_64KiB" { print $2 }' "$build/bench_tcp.txt")
echo "== Target: 64 KiB messages at >= 70% of raw loopback bandwidth"
awk -v r="$ratio" 'BEGIN { printf "ratio_64KiB %.3f: %s\n", r, (r >= 0.7 ? "met" : "MISSED") }'
