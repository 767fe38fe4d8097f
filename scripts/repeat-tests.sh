#!/usr/bin/env bash
# Runs the whole main suite N times in a row with `ctest -j4` (twice the cores of the project's
# machines, so the tests run on a loaded machine), and says how many runs failed and which tests.
#   scripts/repeat-tests.sh [N]      N defaults to 20; also reachable as scripts/test.sh --repeat N
# Builds first (scripts/build.sh). The output of each failed run is kept in a directory outside the
# source tree, named at the end. Exits 1 if any run failed.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-20}
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "repeat-tests: the number of runs must be a positive integer, not '$runs'" >&2
  exit 2
fi
build_dir=${NODUS_BUILD_DIR:-build}
./scripts/build.sh
logs=$(mktemp -d "${TMPDIR:-/tmp}/nodus-repeat.XXXXXX")
declare -A failures_of=()
failed_runs=0
started=$SECONDS
for ((run = 1; run <= runs; ++run)); do
  run_started=$SECONDS
  if ctest --test-dir "$build_dir" -j4 --output-on-failure >"$logs/run-$run.log" 2>&1; then
    echo "run $run/$runs: passed ($((SECONDS - run_started)) s)"
    rm -f "$logs/run-$run.log"
  else
    failed_runs=$((failed_runs + 1))
    failed=$(sed -E 's/^[0-9]+://' "$build_dir/Testing/Temporary/LastTestsFailed.log" 2>/dev/null | tr '\n' ' ')
    for t in $failed; do failures_of[$t]=$((${failures_of[$t]:-0} + 1)); done
    echo "run $run/$runs: FAILED ${failed:-(no test named; see $logs/run-$run.log)} ($((SECONDS - run_started)) s)"
  fi
done
elapsed=$((SECONDS - started))
echo "repeat-tests: $runs run(s), $failed_runs failed, in $((elapsed / 60)) min $((elapsed % 60)) s"
for t in "${!failures_of[@]}"; do echo "  $t failed in ${failures_of[$t]} run(s)"; done
if ((failed_runs > 0)); then
  echo "repeat-tests: the output of each failed run is in $logs"
  exit 1
fi
rmdir "$logs" 2>/dev/null || true
