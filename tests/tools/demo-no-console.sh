#!/bin/sh
# ./scripts/demo --no-console as the slow suite runs it, on the binaries
# under test (--build): it must exit 0, show the VM (vmctl list and
# dominfo), the guest's boot and its answers to what it typed, shut the VM
# down through the power button, and leave no process and no file of its
# temporary root behind. By default the guest is the project's Linux
# guest; with --tiny, the tiny demo guest.
#
#   demo-no-console.sh SOURCE_ROOT BUILD_DIR [--tiny]
set -u
src=$1 build=$2
mode=${3:-linux}
out=$(mktemp /tmp/kvmstack-demo-test.XXXXXX)
fail() {
    echo "demo-no-console: $*" >&2
    rm -f "$out"
    exit 1
}

case $mode in
linux) "$src/scripts/demo" --no-console --build "$build" >"$out" 2>&1 ;;
--tiny) "$src/scripts/demo" --no-console --tiny --build "$build" >"$out" 2>&1 ;;
*) fail "unknown mode '$mode'" ;;
esac
rc=$?
cat "$out"
[ $rc -eq 0 ] || fail "scripts/demo --no-console $mode exited with status $rc"

# Every line in that order (each after the one before).
expect_in_order() {
    rest=$(cat "$out")
    for want in "$@"; do
        case $rest in
        *"$want"*) rest=${rest#*"$want"} ;;
        *) fail "its output lacks, where expected: $want" ;;
        esac
    done
}

case $mode in
linux)
    expect_in_order \
        "Domain 'kvmstack-demo' started" \
        " Id   Name            State" \
        " 1    kvmstack-demo   running" \
        "State:          running" \
        "CPU(s):         2" \
        "Max memory:     131072 KiB" \
        "] Run /init as init process
" \
        "    | KVMSTACK-INIT cpus=2 " \
        "    | / # uname -a
    | Linux (none) 6.1." \
        "    | / # cat /proc/cpuinfo | grep -c processor
    | 2
" \
        "    | / # ls /sys/firmware/acpi/tables
    | APIC " \
        "    | / # cat /proc/partitions
" \
        "    |  254        0    1048576 vda
" \
        "==> vmctl shutdown kvmstack-demo (the ACPI power button)" \
        "Domain 'kvmstack-demo' is shut off" \
        "KVMSTACK-POWER-BUTTON
" \
        "] reboot: Power down" \
        "shut off (shutdown)"
    # The ACPI tables kvmemu makes, as Linux lists them.
    tables=$(grep -A1 -F "    | / # ls /sys/firmware/acpi/tables" "$out" | tail -n 1)
    for t in APIC DSDT FACP MCFG; do
        case $tables in
        *" $t "*) ;;
        *) fail "ls /sys/firmware/acpi/tables lacks $t: $tables" ;;
        esac
    done
    # What the admin would get in a terminal, no escape sequence among it.
    ! grep -q "$(printf '\033')" "$out" || fail "its output has terminal escape sequences"
    ;;
--tiny)
    expect_in_order \
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
        "Domain 'kvmstack-demo' is shut off" \
        "    | power button pressed: powering off (ACPI S5)" \
        "shut off (shutdown)"
    ;;
esac

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
echo "demo-no-console: ok ($mode)"
