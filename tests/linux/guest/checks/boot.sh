#!/bin/sh
# Nothing beyond booting: bench/linux-boot times a boot to /init and the
# power-off that follows.
echo "KVMSTACK-RESULT boot PASS"
