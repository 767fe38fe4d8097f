#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/README.md) in build-fuzz with clang, ASan and UBSan,
# then runs each on a copy of its committed corpus (the corpus itself is never modified).
#   scripts/fuzz.sh                          every target, 30 000 executions each
#   scripts/fuzz.sh --runs N [TARGET...]     N executions of each named target (e.g. tcp_frame)
#   scripts/fuzz.sh --seconds S [TARGET...]  S seconds of each instead
#   scripts/fuzz.sh --build-only             configure and build, run nothing (scripts/test.sh)
# NODUS_FUZZ_BUILD=DIR builds elsewhere; NODUS_FUZZ_SEED=N fixes libFuzzer's seed (default:
# random here, 1 under ctest); findings are saved in $NODUS_FUZZ_ARTIFACTS (default: a temporary
# directory, whose name is printed).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=30000 seconds="" build_only=0 targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --build-only) build_only=1; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

./scripts/install-deps.sh   # clang and its sanitizer runtimes are among the build dependencies
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is missing after install-deps.sh" >&2; exit 1; }

build=${NODUS_FUZZ_BUILD:-build-fuzz}
if [[ ! -f "$build/build.ninja" ]]; then
  # -O1 and line tables only: what libFuzzer recommends, and quicker to compile than -O2 -g.
  # Assertions stay on (no NDEBUG).
  cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DNODUS_BUILD_FUZZ=ON \
    -DNODUS_BUILD_TESTS=OFF -DNODUS_BUILD_EXAMPLES=OFF >/dev/null
fi
cmake --build "$build" --target fuzz_targets
[[ $build_only -eq 1 ]] && exit 0

if [[ ${#targets[@]} -eq 0 ]]; then
  for f in tests/fuzz/*.fuzz.cpp; do targets+=("$(basename "$f" .fuzz.cpp)"); done
fi
extra=()
if [[ -n "$seconds" ]]; then
  runs=-1
  extra+=(-max_total_time="$seconds")
fi
export NODUS_FUZZ_SEED=${NODUS_FUZZ_SEED:-0}   # 0: libFuzzer picks (and prints) a seed
failed=()
for t in "${targets[@]}"; do
  echo "== fuzz $t"
  tests/fuzz/run_fuzzer.sh "$build/tests/fuzz/fuzz_$t" "tests/fuzz/corpus/$t" "$runs" "${extra[@]}" ||
    failed+=("$t")
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: findings in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, no findings"
