#!/usr/bin/env bash
# Checks that every C++ file in the repository follows .clang-format (clang-format 14, installed by
# scripts/install-deps.sh); prints the files that do not and exits 1. --fix formats them in place.
# Files under third_party/ and the fuzz corpora are not ours and are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

fix=false
[[ "${1:-}" == "--fix" ]] && fix=true
command -v clang-format >/dev/null || { echo "check-format: clang-format not found (scripts/install-deps.sh installs it)"; exit 2; }

mapfile -t files < <(git ls-files '*.cpp' '*.hpp' | grep -v -e '^third_party/' -e '/corpus/')
if $fix; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  echo "check-format: ${#bad[@]} file(s) differ from .clang-format (run scripts/check-format.sh --fix):"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "check-format: ${#files[@]} files follow .clang-format"
