#!/bin/sh
# virtio-net on the host's tap (the host side is 10.0.2.2/24): ping it,
# receive a stream on port 5001 and send it back to the host's port 5002.
fail() {
    echo "KVMSTACK-RESULT net FAIL $*"
    exit 1
}
ip link set lo up
ip link set eth0 up || fail "no eth0"
ip addr add 10.0.2.15/24 dev eth0 || fail "ip addr add"
echo "KVMSTACK-NET mac=$(cat /sys/class/net/eth0/address) driver=$(basename "$(readlink /sys/class/net/eth0/device/driver)")"
out=$(ping -c 3 -W 10 10.0.2.2 2>&1)
echo "KVMSTACK-NET ping: $(echo "$out" | grep 'packets transmitted')"
nc -l -p 5001 >/tmp/rx &
listener=$!
sleep 1
echo "KVMSTACK-ASK send to 10.0.2.15:5001"
wait $listener || fail "nc -l -p 5001 failed"
echo "KVMSTACK-NET rx bytes=$(wc -c </tmp/rx) sha256=$(sha256sum </tmp/rx | cut -d' ' -f1)"
nc 10.0.2.2 5002 </tmp/rx || fail "nc 10.0.2.2 5002"
echo "KVMSTACK-NET tx done"
echo "KVMSTACK-RESULT net PASS"
