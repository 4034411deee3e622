#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Fails if any C source or header of the layers (libkvmcore, emulator,
# mgmtd, tools), the tests or the benchmarks differs from what clang-format
# makes of it (.clang-format at the source root). A missing clang-format is
# a failure, not a skip: a check that silently does not run is worse than
# none.
# Usage: check-format.sh SOURCE_ROOT
set -eu

root=${1:?usage: check-format.sh SOURCE_ROOT}
cd "$root"

if ! command -v clang-format >/dev/null 2>&1; then
    echo "check-format: clang-format is not installed; install clang-format" \
        "(./scripts/test installs it) and run this test again" >&2
    exit 1
fi

dirs=
for d in libkvmcore emulator mgmtd tools tests bench; do
    [ -d "$d" ] && dirs="$dirs $d"
done

# Only .c and .h: the guests' .S files are assembly and not formatted.
list=$(find $dirs -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
if [ -z "$list" ]; then
    echo "check-format: no C files found under $root" >&2
    exit 1
fi
n=$(printf '%s\n' "$list" | wc -l)

bad=$(printf '%s\n' "$list" | while IFS= read -r f; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || printf '%s\n' "$f"
done)

if [ -n "$bad" ]; then
    echo "check-format: $(printf '%s\n' "$bad" | wc -l) of $n files are not formatted per" \
        ".clang-format (fix with clang-format -i FILE):" >&2
    printf '%s\n' "$bad" | sed 's/^/  /' >&2
    # The first file's diagnostics, so a config problem is not mistaken
    # for unformatted code.
    first=$(printf '%s\n' "$bad" | head -n 1)
    echo "check-format: first differences in $first:" >&2
    clang-format --dry-run --Werror "$first" 2>&1 | head -n 12 >&2 || true
    exit 1
fi
echo "check-format: $n files formatted"
