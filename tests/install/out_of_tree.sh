#!/usr/bin/env bash
# ctest install/out_of_tree: what a user does with an installed Nodus.
#   1. `cmake --install` the build into a temporary prefix;
#   2. build examples/04-custom-worker on its own with only find_package(nodus), run it and
#      check what it prints;
#   3. compile the README's custom worker snippet exactly as shown, through pkg-config (nodus.pc),
#      with -Wall -Wextra -Werror, and run it.
# Usage: out_of_tree.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Runs a step quietly; on failure prints what it said.
step() { "$@" > "$work/step.log" 2>&1 || { echo "failed: $*"; cat "$work/step.log"; exit 1; }; }

step cmake --install "$build" --prefix "$work/prefix"

step cmake -S "$source/examples/04-custom-worker" -B "$work/custom-worker" -G Ninja \
     -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror"
step cmake --build "$work/custom-worker"
out=$("$work/custom-worker/custom-worker" 2>/dev/null)
expected=$'App received: 1: HELLO\nApp received: 2: CUSTOM\nApp received: 3: WORKER'
if [[ "$out" != "$expected" ]]; then
  echo "04-custom-worker built out of tree printed:"; echo "$out"; exit 1
fi
echo "04-custom-worker built with find_package(nodus) and ran"

# The first C++ block after "## A custom worker" in the README.
awk '/^## A custom worker/{found=1} found && /^```cpp/{inside=1; next} inside && /^```/{exit} inside' \
    "$source/README.md" > "$work/snippet.cpp"
[[ -s "$work/snippet.cpp" ]] || { echo "README has no C++ block after '## A custom worker'"; exit 1; }
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
# shellcheck disable=SC2046  # pkg-config's flags are meant to split
step g++ -Wall -Wextra -Werror "$work/snippet.cpp" -o "$work/snippet" $(pkg-config --cflags --libs nodus)
out=$("$work/snippet" 2>/dev/null)
[[ "$out" == "App received: HEARD: hello" ]] || { echo "README snippet printed: $out"; exit 1; }
echo "README snippet compiled through pkg-config without warnings and ran"
