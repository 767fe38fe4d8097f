#!/usr/bin/env bash
# Builds `nodus` in build-bench and runs the Kafka portal benchmark (tests/bench/README.md, "Kafka
# portal"): Kafka's perf-test tools and kcat straight to a real broker and through a Nodus Kafka
# inlet -> secure channel -> outlet, same broker, same run. Every process it starts ends by its PID.
#   scripts/bench-kafka-portal.sh                   200 000 records of 100 B (10 000 of 10 KiB), 3 runs
#   scripts/bench-kafka-portal.sh --records N --runs N
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/build-bench.sh nodus
busy=$(./scripts/cpu-busy.sh)
echo "== $(nproc) cores, ${busy}% busy before the runs"
(( busy <= 10 )) || echo "bench-kafka-portal.sh: warning: the machine is busy; the figures will be low and noisy" >&2
/usr/bin/python3 tests/bench/bench_kafka_portal.py --nodus build-bench/cli/nodus "$@" | tee build-bench/bench_kafka_portal.txt
