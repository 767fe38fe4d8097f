#!/usr/bin/env bash
# Builds the unit suites with AddressSanitizer and UndefinedBehaviorSanitizer (g++, -O0, in
# build-asan or $NODUS_ASAN_BUILD) and runs them (ctest -L unit). Any report fails the run: the
# sanitizers halt on the first one (-fno-sanitize-recover=all). scripts/test.sh runs it, so CI does.
#   scripts/check-sanitizers.sh [ctest arguments...]   e.g. -R services/relay
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
build=${NODUS_ASAN_BUILD:-build-asan}
if [[ ! -f "$build/build.ninja" ]]; then
  # -O0: g++ instruments optimised code slowly (at -O1 this build took 21 CPU-minutes, twice the
  # main build); unoptimised, the build is quick and the unit suites still run in about a minute.
  # No NDEBUG: assertions stay on. Examples and the CLI are left out: the unit suites need neither.
  # No -Werror: the main build has it, and g++ 12's -Wmaybe-uninitialized misfires on Outcome's
  # results once ASan instruments them (noise_handshake.cpp, read_message).
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O0 -g1" \
    -DNODUS_SANITIZE=address,undefined -DNODUS_BUILD_EXAMPLES=OFF >/dev/null
fi
cmake --build "$build" --target core_tests vault_tests node_tests transports_tests services_tests
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:check_initialization_order=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" -L unit -j2 --output-on-failure "$@"
