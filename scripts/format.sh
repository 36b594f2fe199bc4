#!/usr/bin/env bash
# Formats the C sources with the project's .clang-format, or with --check
# fails listing the files that are not formatted.
set -euo pipefail
cd "$(dirname "$0")/.."
# The tracked sources; in a copy without git (CI checks a `git archive`
# of HEAD), every source under the source folders, which hold no build
# output. An empty list is an error, never a pass.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.c' '*.h')
else
  mapfile -t files < <(find bridge plugins include tests examples bench \
    -type f \( -name '*.c' -o -name '*.h' \) | sort)
fi
if [ "${#files[@]}" -eq 0 ]; then
  echo "format: no C sources found (run from a checkout of the repository)" >&2
  exit 1
fi
if [ "${1:-}" = "--check" ]; then
  clang-format --dry-run --Werror "${files[@]}"
  echo "format: ${#files[@]} files formatted as .clang-format says"
else
  clang-format -i "${files[@]}"
fi
