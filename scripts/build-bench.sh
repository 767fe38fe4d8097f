#!/usr/bin/env bash
# Installs the benchmark dependencies and builds the given benchmark targets in build-bench (or
# $NODUS_BENCH_BUILD, to keep out of someone else's build): Release at -O2 (CMake's Release
# default is -O3) for the whole tree, libraries included; tests and examples off, since they are
# built and run elsewhere. Used by every scripts/bench*.sh.
#   scripts/build-bench.sh TARGET...
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh --bench
build=${NODUS_BENCH_BUILD:-build-bench}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DNODUS_BUILD_BENCH=ON -DNODUS_BUILD_TESTS=OFF -DNODUS_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target "$@"
