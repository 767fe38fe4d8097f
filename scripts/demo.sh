#!/usr/bin/env bash
# README command 1: installs what is missing, builds, runs the main demo on embedded defaults.
# For now the demo is the in-process tour of workers and routes (examples 01 to 04); the Kafka
# Alice and Bob demo replaces it when the stream issue lands.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/build.sh
bin=${NODUS_BUILD_DIR:-build}/examples
for example in 01-node 02-worker 03-routing 04-custom-worker; do
  printf '\n=== %s ===\n' "$example"
  NODUS_LOG=${NODUS_LOG:-warn} "$bin/$example"
done
printf '\nDemo finished: every example ran and exited 0.\n'
