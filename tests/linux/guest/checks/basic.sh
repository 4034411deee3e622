#!/bin/sh
# The machine as Linux sees it: CPUs, ACPI tables, the power button and
# acpid. Then the host says what to do: reboot (the next boot runs this
# again) or poweroff.
tables=$(ls /sys/firmware/acpi/tables | grep -v '^dynamic$' | tr '\n' ',')
button=no
grep -q 'Name="Power Button"' /proc/bus/input/devices && button=yes
acpid=no
pidof acpid >/dev/null && acpid=yes
echo "KVMSTACK-FACTS cpus=$(grep -c ^processor /proc/cpuinfo)" \
    "online=$(cat /sys/devices/system/cpu/online) tables=$tables" \
    "power_button=$button acpid=$acpid"
echo "KVMSTACK-RESULT basic PASS"
echo "KVMSTACK-ASK reboot|poweroff"
read -r what
case $what in
reboot) reboot -f ;;
*) poweroff -f ;;
esac
