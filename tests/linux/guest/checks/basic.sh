#!/bin/sh
# The machine as Linux sees it: CPUs, ACPI tables, the power button and
# acpid. Then the host says what to do, a line at a time:
#   ticks     in the background, over and over: print "KVMSTACK-TICK N"
#             (N counts up from 0) and sleep 0.2 s (the host stops and
#             resumes the machine meanwhile)
#   reboot    reboot -f (the next boot runs this again)
#   poweroff  poweroff -f
# or does something from outside while this waits (the monitor's
# system_reset and system_powerdown; acpid's handler powers off).
tables=$(ls /sys/firmware/acpi/tables | grep -v '^dynamic$' | tr '\n' ',')
button=no
grep -q 'Name="Power Button"' /proc/bus/input/devices && button=yes
acpid=no
pidof acpid >/dev/null && acpid=yes
echo "KVMSTACK-FACTS cpus=$(grep -c ^processor /proc/cpuinfo)" \
    "online=$(cat /sys/devices/system/cpu/online) tables=$tables" \
    "power_button=$button acpid=$acpid"
echo "KVMSTACK-RESULT basic PASS"
while echo "KVMSTACK-ASK ticks|reboot|poweroff" && read -r what; do
    case $what in
    ticks)
        (
            n=0
            while :; do
                echo "KVMSTACK-TICK $n"
                n=$((n + 1))
                sleep 0.2
            done
        ) &
        ;;
    reboot) reboot -f ;;
    poweroff) poweroff -f ;;
    esac
done
