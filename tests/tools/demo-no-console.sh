#!/bin/sh
# ./scripts/demo --no-console as the slow suite runs it, on the binaries
# under test (--build): it must exit 0, show the VM (vmctl list and
# dominfo) and the guest's answers to what it typed, shut the VM down, and
# leave no process and no file of its temporary root behind.
#
#   demo-no-console.sh SOURCE_ROOT BUILD_DIR
set -u
src=$1 build=$2
out=$(mktemp /tmp/kvmstack-demo-test.XXXXXX)
fail() {
    echo "demo-no-console: $*" >&2
    rm -f "$out"
    exit 1
}

"$src/scripts/demo" --no-console --build "$build" >"$out" 2>&1
rc=$?
cat "$out"
[ $rc -eq 0 ] || fail "scripts/demo --no-console exited with status $rc"

for want in \
    "Domain 'kvmstack-demo' started" \
    " Id   Name            State" \
    " 1    kvmstack-demo   running" \
    "State:          running" \
    "CPU(s):         2" \
    "    | demo> info" \
    "    | CPUs (ACPI MADT): 2, APIC ids 0 1" \
    "    | virtio disk: 2097152 sectors of 512 bytes (1024 MiB), read-write, serial 'demo-disk'" \
    "    | demo> disk" \
    "    | sector 0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 (no text)" \
    "shut off (shutdown)"; do
    grep -qF -- "$want" "$out" || fail "its output lacks: $want"
done

tmp=$(sed -n 's/^==> temporary files: //p' "$out")
[ -n "$tmp" ] || fail "it did not say where its temporary files were"
[ ! -e "$tmp" ] || fail "it left $tmp behind"
# Nothing that ran under that root runs on (init may take a moment to
# reap what ended).
n=0
while :; do
    left=$(grep -l -- "$tmp" /proc/[0-9]*/cmdline 2>/dev/null || true)
    [ -z "$left" ] && break
    n=$((n + 1))
    if [ $n -gt 50 ]; then
        for f in $left; do
            tr '\0' ' ' <"$f" >&2
            echo >&2
        done
        fail "processes of the demo still run (above)"
    fi
    sleep 0.1
done
rm -f "$out"
echo "demo-no-console: ok"
