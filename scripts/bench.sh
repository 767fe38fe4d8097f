#!/usr/bin/env bash
# Builds and runs the on-demand benchmarks (tests/bench/README.md) in build-bench and compares
# Nodus with CAF 0.17. Everything runs in the foreground: no process outlives the script.
#   scripts/bench.sh                                  default sizes (2 M one-way, 1 M ping-pong, 10 k idle)
#   scripts/bench.sh ONE_WAY_N PING_PONG_N IDLE_N     other sizes, passed to both benchmarks
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/build-bench.sh bench_local
build=build-bench
# bench_caf exists only when CAF was found (libcaf-dev).
if cmake --build "$build" --target help | grep -q '^bench_caf:'; then cmake --build "$build" --target bench_caf; fi

bin="$build/tests/bench"
# Two cores: anything else running (a build, a test suite) shows up in the figures.
busy=$(./scripts/cpu-busy.sh)
echo "== $(nproc) cores, ${busy}% busy before the runs"
(( busy <= 10 )) || echo "bench.sh: warning: the machine is busy; the figures will be low and noisy" >&2

echo "== Nodus"
"$bin/bench_local" "$@" | tee "$build/bench_local.txt"
if [[ ! -x "$bin/bench_caf" ]]; then
  echo "bench.sh: bench_caf was not built (CAF missing); no comparison" >&2
  exit 0
fi
echo "== CAF 0.17"
"$bin/bench_caf" "$@" | tee "$build/bench_caf.txt"

# figure FILE NAME: the value printed on the line `NAME value`.
figure() { awk -v name="$2" '$1 == name { print $2 }' "$1"; }
one_way=$(figure "$build/bench_local.txt" one_way_msgs_per_s)
ping_pong=$(figure "$build/bench_local.txt" ping_pong_round_trips_per_s)
caf_one_way=$(figure "$build/bench_caf.txt" caf_one_way_msgs_per_s)
caf_ping_pong=$(figure "$build/bench_caf.txt" caf_ping_pong_round_trips_per_s)
idle=$(figure "$build/bench_local.txt" idle_worker_heap_bytes)
caf_idle=$(figure "$build/bench_caf.txt" caf_idle_worker_heap_bytes)
used=$(figure "$build/bench_local.txt" idle_worker_after_message_heap_bytes)
caf_used=$(figure "$build/bench_caf.txt" caf_idle_worker_after_message_heap_bytes)

echo "== Comparison (targets: ping-pong not slower than CAF; one-way >= 1 M msgs/s; idle heap <= CAF)"
awk -v pp="$ping_pong" -v cpp="$caf_ping_pong" -v ow="$one_way" -v cow="$caf_one_way" \
    -v idle="$idle" -v cidle="$caf_idle" -v used="$used" -v cused="$caf_used" 'BEGIN {
  printf "ping_pong_ratio_nodus_over_caf %.3f  (target >= 1: %s)\n", pp / cpp, (pp >= cpp ? "met" : "MISSED")
  printf "one_way_ratio_nodus_over_caf %.3f\n", ow / cow
  printf "one_way_msgs_per_s %d  (target >= 1000000: %s)\n", ow, (ow >= 1000000 ? "met" : "MISSED")
  printf "idle_worker_heap_bytes %d, CAF %d  (target <= CAF: %s)\n", idle, cidle, (idle <= cidle ? "met" : "MISSED")
  printf "idle_worker_after_message_heap_bytes %d, CAF %d\n", used, cused
}'
