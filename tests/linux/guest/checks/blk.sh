#!/bin/sh
# virtio-blk, with the host's disks in this order:
#   vda  blank: make an ext2 file system, write /f and /big, sync
#   vdb  read-only, a pattern: read it whole, a write must fail
#   vdc  the host shrinks the file under us: a read past the new end must
#        fail with an I/O error, and the disk still answers afterwards
#   vdd  an ext4 image the host made: read /hello, write /g
# nonce=WORD on the kernel command line goes into /f.
nonce=none
for w in $(cat /proc/cmdline); do
    case $w in nonce=*) nonce=${w#nonce=} ;; esac
done
fail() {
    echo "KVMSTACK-RESULT blk FAIL $*"
    exit 1
}
for d in vda vdb vdc vdd; do
    [ -b /dev/$d ] || fail "no /dev/$d"
done

mke2fs -q /dev/vda >/dev/null || fail "mke2fs /dev/vda"
mount -t ext2 /dev/vda /mnt || fail "mount /dev/vda"
echo "kvmstack $nonce" >/mnt/f
dd if=/dev/urandom of=/mnt/big bs=4096 count=256 2>/dev/null || fail "writing /mnt/big"
echo "KVMSTACK-BLK vda big=$(sha256sum </mnt/big | cut -d' ' -f1)"
sync
umount /mnt || fail "umount /dev/vda"

echo "KVMSTACK-BLK vdb ro=$(cat /sys/block/vdb/ro) sha256=$(sha256sum </dev/vdb | cut -d' ' -f1)"
err=$(dd if=/dev/zero of=/dev/vdb bs=4096 count=1 conv=fsync 2>&1) &&
    fail "a write to the read-only /dev/vdb succeeded"
echo "KVMSTACK-BLK vdb write refused: $(echo "$err" | head -n 1)"

dd if=/dev/vdc of=/dev/null bs=4096 count=1 2>/dev/null || fail "reading /dev/vdc before the shrink"
echo "KVMSTACK-ASK shrink vdc"
read -r _
# 4 MiB in, never read before: past the file's new end.
err=$(dd if=/dev/vdc of=/dev/null bs=4096 skip=1024 count=16 2>&1) &&
    fail "reading /dev/vdc past the shrunk file's end succeeded"
echo "KVMSTACK-BLK vdc read after shrink: $(echo "$err" | head -n 1)"
# The device still works: a block before the new end, not cached.
dd if=/dev/vdc of=/dev/null bs=4096 skip=128 count=1 2>/dev/null ||
    fail "/dev/vdc no longer answers after the I/O error"
echo "KVMSTACK-BLK vdc still answers"

mount -t ext4 /dev/vdd /mnt || fail "mount -t ext4 /dev/vdd"
echo "KVMSTACK-BLK vdd hello=$(cat /mnt/hello)"
echo "from the guest $nonce" >/mnt/g
umount /mnt || fail "umount /dev/vdd"
sync
echo "KVMSTACK-RESULT blk PASS"
