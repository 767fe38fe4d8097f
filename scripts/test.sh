#!/usr/bin/env bash
# README command 2: installs what is missing, builds, runs every test. ctest's summary ends the output.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/build.sh
ctest --test-dir "${NODUS_BUILD_DIR:-build}" --output-on-failure -j2
