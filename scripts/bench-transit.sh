#!/usr/bin/env bash
# Builds `nodus` in build-bench and runs the transit benchmark (tests/bench/README.md, "Transit"):
# encrypt and decrypt requests per second through `nodus transit create` on loopback, driven by
# wrk (keep-alive, 4 connections), for 100 B and 10 KiB plaintexts, single and in batches of 100;
# beside it, in the same run, `openssl speed` AES-256-GCM at those sizes (the CPU limit of the
# cipher on one core). Every process it starts ends by its PID.
#   scripts/bench-transit.sh [SECONDS]        each case for SECONDS (default 10)
#   NODUS_BIN=build/cli/nodus scripts/bench-transit.sh   an already built nodus, no build
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${NODUS_BIN:-}" ]]; then
  nodus=$NODUS_BIN
  ./scripts/install-deps.sh --bench
else
  ./scripts/build-bench.sh nodus
  nodus=build-bench/cli/nodus
fi
busy=$(./scripts/cpu-busy.sh)
echo "== $(nproc) cores, ${busy}% busy before the runs"
(( busy <= 10 )) || echo "bench-transit.sh: warning: the machine is busy; the figures will be low and noisy" >&2
/usr/bin/python3 tests/bench/bench_transit.py --nodus "$nodus" --seconds "${1:-10}"
