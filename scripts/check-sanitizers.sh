#!/usr/bin/env bash
# Builds the unit suites and the `nodus` program with AddressSanitizer and UndefinedBehaviorSanitizer
# (g++, -O0, in build-asan or $NODUS_ASAN_BUILD) and runs the unit suites (ctest -L unit) and the
# CLI's integration tests (background nodes, their control API, the TCP portal) against that
# `nodus`. Any report fails the run: the sanitizers halt on the first one
# (-fno-sanitize-recover=all), and a node process that halts fails its test. scripts/test.sh runs
# it, so CI does.
#   scripts/check-sanitizers.sh [ctest arguments...]   e.g. -R services/relay
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
build=${NODUS_ASAN_BUILD:-build-asan}
if [[ ! -f "$build/build.ninja" ]]; then
  # -O0: g++ instruments optimised code slowly (at -O1 this build took 21 CPU-minutes, twice the
  # main build); unoptimised, the build is quick and the unit suites still run in about a minute.
  # No NDEBUG: assertions stay on. Examples are left out.
  # No -Werror: the main build has it, and g++ 12's -Wmaybe-uninitialized misfires on Outcome's
  # results once ASan instruments them (noise_handshake.cpp, read_message).
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O0 -g1" \
    -DNODUS_SANITIZE=address,undefined -DNODUS_BUILD_EXAMPLES=OFF >/dev/null
fi
cmake --build "$build" --target core_tests vault_tests node_tests transports_tests services_tests portal_tests \
  kafka_tests kafka_records_tests kafka_crypto_tests kafka_portal_tests policy_tests fpe_tests authority_tests hub_tests \
  transit_tests nodus
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:check_initialization_order=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" -L unit -j2 --output-on-failure "$@"
# The CLI's tests, against the instrumented `nodus`. Its node processes run in the background, so
# their reports go to files (log_path), which must stay empty. The portal test moves 64 MiB here.
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
for script in cli_node_lifecycle cli_seed000 cli_portal cli_kafka_portal cli_kafka_custodian transit_hvac; do
  ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$reports/asan" UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$reports/ubsan" \
    NODUS_PORTAL_BIG_BYTES=$((64 << 20)) /usr/bin/python3 "tests/integration/$script.py" \
    --nodus "$build/cli/nodus" --examples "$build/examples"
done
if compgen -G "$reports/*" >/dev/null; then
  echo "check-sanitizers: the sanitizers reported, in the nodus processes of the CLI tests:" >&2
  cat "$reports"/* >&2
  exit 1
fi
echo "check-sanitizers: unit suites and CLI tests clean"
