#!/bin/sh
# Every virtio device in one boot (the host attaches the four disks of
# blk.sh, a NIC on its tap, virtio-rng and a virtio console): the checks
# in turn, each talking with the host as it needs.
for c in blk net rng; do
    "/checks/$c.sh" || exit 1
done
echo "KVMSTACK-RESULT devices PASS"
