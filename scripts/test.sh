#!/usr/bin/env bash
# README command 2: installs what is missing, builds (warnings are errors), runs every test.
# The fuzz targets (tests/fuzz) are built with clang in build-fuzz and run first, each for a fixed
# number of executions on its corpus (ctest entries fuzz/<target>); then the main suite; then the
# unit suites again, built with ASan and UBSan (scripts/check-sanitizers.sh); then the formatting
# check (scripts/check-format.sh). Each stage runs even when one before it failed, and the script
# fails if any did.
#   scripts/test.sh --repeat N   instead runs the main suite N times in a row (scripts/repeat-tests.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--repeat" ]]; then
  exec ./scripts/repeat-tests.sh "${2:-20}"
elif [[ $# -gt 0 ]]; then
  echo "test.sh: unknown argument '$1' (the only one is --repeat N)" >&2
  exit 2
fi

./scripts/build.sh -DNODUS_WERROR=ON
./scripts/fuzz.sh --build-only
status=0
ctest --test-dir "${NODUS_FUZZ_BUILD:-build-fuzz}" --output-on-failure -j2 || status=1
ctest --test-dir "${NODUS_BUILD_DIR:-build}" --output-on-failure -j2 || status=1
echo "== the unit suites under AddressSanitizer and UndefinedBehaviorSanitizer (scripts/check-sanitizers.sh)"
./scripts/check-sanitizers.sh || status=1
echo "== formatting (.clang-format, scripts/check-format.sh)"
./scripts/check-format.sh || status=1
exit $status
