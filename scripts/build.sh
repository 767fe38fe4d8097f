#!/usr/bin/env bash
# Installs dependencies (quick when present), configures and builds into build/ (or $NODUS_BUILD_DIR).
# Extra arguments are passed to CMake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
build_dir=${NODUS_BUILD_DIR:-build}
if [[ ! -f "$build_dir/build.ninja" || $# -gt 0 ]]; then
  cmake -S . -B "$build_dir" -G Ninja "$@" >/dev/null
fi
cmake --build "$build_dir"
