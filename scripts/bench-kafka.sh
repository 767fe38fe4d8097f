#!/usr/bin/env bash
# Builds and runs the Kafka streams benchmark (tests/bench/README.md, "Kafka streams"): Alice ->
# Bob -> Alice round trips of 100 B messages through a secure channel over streams on a
# `nodus hub` with its embedded Kafka, next to kcat producing and consuming the same number of
# 100 B records on the same broker in the same run. Prints a table. The hub and every kcat the
# benchmark starts end before the script does.
#   scripts/bench-kafka.sh                                   2 000 round trips, 10 000 messages, window 64
#   scripts/bench-kafka.sh LATENCY_N THROUGHPUT_M WINDOW
# Keep THROUGHPUT_M x ~300 B (a ~223 B record plus batch overhead) under the mock broker's
# 5 MiB per partition, or it drops the oldest records: 15 000 is the most that fits.
# NODUS_BENCH_BUILD=DIR builds there (through build-bench.sh; default build-bench-kafka, so as not
# to get in the way of someone building in build-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${NODUS_BENCH_BUILD:-build-bench-kafka}
targets=(bench_kafka_streams nodus)
NODUS_BENCH_BUILD=$build ./scripts/build-bench.sh "${targets[@]}"

busy=$(./scripts/cpu-busy.sh)
echo "== $(nproc) cores, ${busy}% busy before the run ($(uptime | sed 's/.*load/load/'))"
(( busy <= 10 )) || echo "bench-kafka.sh: warning: the machine is busy; the figures will be low and noisy" >&2

out="$build/bench_kafka_streams.txt"
NODUS_LOG=${NODUS_LOG:-warn} "$build/tests/bench/bench_kafka_streams" "$build/cli/nodus" "$@" | tee "$out"
echo "== $(./scripts/cpu-busy.sh)% busy after the run ($(uptime | sed 's/.*load/load/'))"

echo "== Alice -> Bob -> Alice through the hub and its embedded Kafka, against kcat on the same broker"
awk '
  { v[$1] = $2 }
  END {
    printf "| %-58s | %12s |\n", "figure", "value"
    printf "| %-58s | %12.0f |\n", "Nodus, 100 B messages/s one way (round trips/s, window " v["window"] ")", v["kafka_msgs_per_s_one_way"]
    printf "| %-58s | %12.0f |\n", "Nodus, round trip p50 us (one at a time)", v["kafka_rtt_p50_us"]
    printf "| %-58s | %12.0f |\n", "Nodus, round trip p99 us (one at a time)", v["kafka_rtt_p99_us"]
    printf "| %-58s | %12.0f |\n", "kcat, 100 B records/s produced (same broker)", v["kcat_produce_msgs_per_s"]
    printf "| %-58s | %12.0f |\n", "kcat, 100 B records/s consumed (same broker)", v["kcat_consume_msgs_per_s"]
    printf "| %-58s | %12.3f |\n", "Nodus one way / kcat produce", v["kafka_msgs_per_s_one_way"] / v["kcat_produce_msgs_per_s"]
    printf "| %-58s | %12.3f |\n", "Nodus one way / kcat consume", v["kafka_msgs_per_s_one_way"] / v["kcat_consume_msgs_per_s"]
    printf "%d round trips timed, %d messages per throughput round and per kcat run (medians of 3)\n",
           v["latency_n"], v["throughput_m"]
    printf "A 100 B message is a %d B record in Kafka (%d records, %d B on the topic; oldest offset left %d%s)\n",
           v["kafka_record_bytes"], v["kafka_topic_records"], v["kafka_topic_value_bytes"], v["kafka_first_offset"],
           v["kafka_first_offset"] == 0 ? ", nothing dropped" : ": THE BROKER DROPPED RECORDS"
  }' "$out"
