#!/usr/bin/env bash
# Runs one fuzz target on a copy of its committed corpus for a fixed number of executions:
#   run_fuzzer.sh BINARY CORPUS_DIR RUNS [libFuzzer options...]
# New inputs go to a temporary directory (libFuzzer writes into the first directory it is given),
# so the committed corpus is only read. Exits non-zero on any finding (crash, sanitizer report,
# a violated property, a leak, an allocation over -malloc_limit_mb, a timeout); the input that
# did it is saved in $NODUS_FUZZ_ARTIFACTS (default: the temporary directory, kept on failure).
# The seed is fixed (1) unless NODUS_FUZZ_SEED says otherwise, so a ctest run is reproducible.
set -euo pipefail
binary=$1 corpus=$2 runs=$3
shift 3
[[ -x "$binary" ]] || { echo "run_fuzzer.sh: no fuzz target at $binary" >&2; exit 2; }
[[ -d "$corpus" ]] || { echo "run_fuzzer.sh: no corpus directory $corpus" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/nodus-fuzz.XXXXXX")
mkdir "$work/new"
artifacts=${NODUS_FUZZ_ARTIFACTS:-$work}
mkdir -p "$artifacts"
status=0
"$binary" -runs="$runs" -seed="${NODUS_FUZZ_SEED:-1}" -rss_limit_mb=512 -malloc_limit_mb=64 -timeout=10 \
  -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" "$work/new" "$corpus" || status=$?
if [[ $status -eq 0 ]]; then
  rm -rf "$work"
else
  echo "run_fuzzer.sh: $(basename "$binary") failed (exit $status); inputs kept in $artifacts" >&2
fi
exit $status
