#!/bin/sh
# virtio-rng through /dev/hwrng; virtio-console: /init runs a shell on
# hvc0, which the host uses while this waits.
fail() {
    echo "KVMSTACK-RESULT rng FAIL $*"
    exit 1
}
[ -c /dev/hwrng ] || fail "no /dev/hwrng"
a=$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
b=$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
echo "KVMSTACK-RNG current=$(cat /sys/class/misc/hw_random/rng_current) a=$a b=$b"
[ -c /dev/hvc0 ] || fail "no /dev/hvc0"
echo "KVMSTACK-ASK use hvc0"
read -r _
echo "KVMSTACK-RESULT rng PASS"
