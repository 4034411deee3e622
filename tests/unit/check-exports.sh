#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks the shared library's ABI surface: every exported symbol is kc_*
# (kci_ internals and anything else stay hidden by libkvmcore.map), the
# public API is actually there, and the soname is the one we ship.
# Usage: check-exports.sh path/to/libkvmcore.so
set -eu

lib=${1:?usage: check-exports.sh LIBRARY}
min_exports=50

if [ ! -f "$lib" ]; then
    echo "check-exports: $lib: no such file" >&2
    exit 1
fi
for tool in nm readelf; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "check-exports: $tool not found; install binutils" >&2
        exit 1
    fi
done

# nm prints "VALUE TYPE NAME" (NAME possibly with @@VERSION); keep NAME
# without the version, and drop the version node itself.
syms=$(nm -D --defined-only "$lib" | awk '{ print $NF }' | sed 's/@.*//' |
    grep -v '^KVMCORE_0$' | sort -u)

status=0
bad=$(printf '%s\n' "$syms" | grep -v '^kc_' || true)
if [ -n "$bad" ]; then
    echo "check-exports: $lib exports symbols outside the kc_ namespace:" >&2
    printf '  %s\n' $bad >&2
    status=1
fi

count=$(printf '%s\n' "$syms" | grep -c '^kc_' || true)
if [ "$count" -lt "$min_exports" ]; then
    echo "check-exports: only $count kc_ symbols exported (want at least $min_exports):" \
        "is the version script hiding the API?" >&2
    status=1
fi

soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
if [ "$soname" != "libkvmcore.so.0" ]; then
    echo "check-exports: soname is '${soname:-<none>}', want 'libkvmcore.so.0'" >&2
    status=1
fi

if [ "$status" -eq 0 ]; then
    echo "check-exports: $count kc_ symbols, nothing else; soname $soname"
fi
exit "$status"
