#!/usr/bin/env bash
# Builds `nodus` in build-bench and runs the Kafka encryption benchmark (tests/bench/README.md,
# "Kafka encryption"): Kafka's perf-test tools and kcat straight to a real broker, through the
# pass-through Kafka portal, and through seed 004's encrypting portals (the producer's inlet seals,
# the consumer's inlet opens), same broker, same run. Every process it starts ends by its PID.
#   scripts/bench-kafka-encryption.sh                    50 000 records of 100 B (20 000 of 1 KiB,
#                                                        3 125 of 10 KiB), 1 and 3 partitions, 3 runs
#   scripts/bench-kafka-encryption.sh --records N --runs N [--profile FILE]   (FILE: perf report
#                                                        of the sealing inlet's node, 60 s of 100 B)
#   NODUS_BIN=build/cli/nodus scripts/bench-kafka-encryption.sh   an already built nodus, no build
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${NODUS_BIN:-}" ]]; then
  nodus=$NODUS_BIN
  out=$(dirname "$(dirname "$nodus")")/bench_kafka_encryption.txt
else
  ./scripts/build-bench.sh nodus
  nodus=build-bench/cli/nodus
  out=build-bench/bench_kafka_encryption.txt
fi
busy=$(./scripts/cpu-busy.sh)
echo "== $(nproc) cores, ${busy}% busy before the runs"
(( busy <= 10 )) || echo "bench-kafka-encryption.sh: warning: the machine is busy; the figures will be low and noisy" >&2
/usr/bin/python3 tests/bench/bench_kafka_encryption.py --nodus "$nodus" "$@" | tee "$out"
