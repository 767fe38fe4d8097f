#!/usr/bin/env bash
# Builds `nodus` in build-bench and runs the TCP portal benchmark (tests/bench/README.md, "TCP
# portal"): the same client and servers over plain loopback, through stunnel (TLS 1.3) and through
# a Nodus inlet -> secure channel -> outlet, in one run. Every process it starts ends by its PID.
#   scripts/bench-portal.sh                  1 GiB per throughput run, 5 000 round trips, 3 runs
#   scripts/bench-portal.sh --bytes N --round-trips N --runs N
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/build-bench.sh nodus
busy=$(./scripts/cpu-busy.sh)
echo "== $(nproc) cores, ${busy}% busy before the runs"
(( busy <= 10 )) || echo "bench-portal.sh: warning: the machine is busy; the figures will be low and noisy" >&2
/usr/bin/python3 tests/bench/bench_portal.py --nodus build-bench/cli/nodus "$@" | tee build-bench/bench_portal.txt

figure() { awk -v name="$1" '$1 == name { print $2 }' build-bench/bench_portal.txt; }
echo "== Target: portal throughput at least stunnel's"
awk -v n="$(figure nodus_MBps)" -v s="$(figure stunnel_MBps)" -v l="$(figure loopback_MBps)" 'BEGIN {
  printf "nodus/stunnel %.2f (%s), nodus/loopback %.2f\n", n / s, (n >= s ? "met" : "MISSED"), n / l }'
