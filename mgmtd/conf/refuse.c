/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Why the parts of libvirt's domain XML that this stack does not provide
 * are refused: the admin must not believe the guest has something it does
 * not, and should learn what to do instead. Everything not listed here
 * and not parsed is refused too, with a plainer message.
 */
#include <string.h>

#include "internal.h"

struct refusal {
    const char *parent; /* NULL: anywhere */
    const char *name;
    const char *why;
};

static const struct refusal elems[] = {
    /* <domain> */
    { "domain", "maxMemory", "memory hotplug is not supported" },
    { "domain", "numatune", "NUMA placement is not supported" },
    { "domain", "memoryBacking",
      "memory backing options (huge pages, sharing, locking) are not supported" },
    { "domain", "memtune", "memory tuning is not supported" },
    { "domain", "blkiotune", "block I/O tuning is not supported" },
    { "domain", "cputune", "vCPU pinning and scheduler tuning are not supported" },
    { "domain", "iothreads", "I/O threads are not configurable (each device has its own)" },
    { "domain", "iothreadids", "I/O threads are not configurable (each device has its own)" },
    { "domain", "vcpus", "per-vCPU settings (hotplug) are not supported" },
    { "domain", "sysinfo", "SMBIOS system information is not supported" },
    { "domain", "bootloader", "host-side boot loaders are not supported; use <os><kernel>" },
    { "domain", "bootloader_args", "host-side boot loaders are not supported; use <os><kernel>" },
    { "domain", "idmap", "user namespace ID maps are not supported" },
    { "domain", "resource", "resource partitions are not supported" },
    { "domain", "genid", "VM generation IDs are not supported" },
    { "domain", "keywrap", "key wrapping is not supported" },
    { "domain", "launchSecurity", "memory encryption (SEV, TDX) is not supported" },
    { "domain", "perf", "perf events are not supported" },
    { "domain", "throttlegroups", "I/O throttling is not supported" },
    { "domain", "on_lockfailure", "there are no disk leases, so no lock failures" },
    /* <os> */
    { "os", "boot",
      "booting from a device needs firmware, which this stack does not run; boot a kernel "
      "with <kernel> (and <initrd>, <cmdline>)" },
    { "os", "loader", "firmware is not supported; boot a kernel with <kernel>" },
    { "os", "nvram", "firmware is not supported; boot a kernel with <kernel>" },
    { "os", "bootmenu", "there is no firmware boot menu" },
    { "os", "smbios", "SMBIOS tables are not supported" },
    { "os", "bios", "there is no BIOS to configure" },
    { "os", "firmware", "firmware is not supported; boot a kernel with <kernel>" },
    { "os", "dtb", "device trees are not used on x86" },
    { "os", "acpi", "additional ACPI tables are not supported" },
    { "os", "init", "container init is not supported" },
    /* <cpu> */
    { "cpu", "model", "CPU models are not supported; mode='host-passthrough' has none" },
    { "cpu", "vendor", "CPU models are not supported; mode='host-passthrough' has none" },
    { "cpu", "cache", "the CPU cache topology is not configurable" },
    { "cpu", "numa", "guest NUMA nodes are not supported" },
    { "cpu", "maxphysaddr", "the physical address width is not configurable" },
    /* <devices> */
    { "devices", "graphics",
      "graphics are not supported: the guest has no display; use a <serial> or <console>" },
    { "devices", "video", "there is no video device: the guest has no display" },
    { "devices", "sound", "there is no sound device" },
    { "devices", "audio", "there is no audio backend: the guest has no sound device" },
    { "devices", "hostdev", "host device assignment is not supported" },
    { "devices", "channel",
      "channels (such as the guest agent's) are not supported; the only virtio-serial port is "
      "a <console> with <target type='virtio'/>" },
    { "devices", "watchdog", "there is no watchdog device" },
    { "devices", "panic",
      "there is no configurable panic device; on_crash applies to what kvmemu detects" },
    { "devices", "tpm", "there is no TPM" },
    { "devices", "smartcard", "there is no smartcard device" },
    { "devices", "redirdev", "there is no USB redirection: the guest has no USB" },
    { "devices", "redirfilter", "there is no USB redirection: the guest has no USB" },
    { "devices", "hub", "there is no USB hub: the guest has no USB" },
    { "devices", "filesystem", "shared filesystems (virtiofs, 9p) are not supported" },
    { "devices", "parallel", "there is no parallel port" },
    { "devices", "shmem", "shared memory devices are not supported" },
    { "devices", "memory", "memory hotplug is not supported" },
    { "devices", "iommu", "there is no IOMMU" },
    { "devices", "vsock", "there is no vsock device" },
    { "devices", "lease", "disk leases are not supported" },
    { "devices", "crypto", "there is no crypto device" },
    { "devices", "pstore", "there is no pstore device" },
    /* <disk> */
    { "disk", "boot", "there is no firmware to order boot devices" },
    { "disk", "alias", "device aliases are runtime state; use the inactive XML" },
    { "disk", "backingStore", "backing chains are not supported: images are raw" },
    { "disk", "iotune", "I/O limits are not supported" },
    { "disk", "shareable", "shared disks are not supported" },
    { "disk", "transient", "transient disks are not supported" },
    { "disk", "encryption", "encrypted images are not supported" },
    { "disk", "auth", "network disks are not supported" },
    { "disk", "blockio", "block sizes are not configurable" },
    { "disk", "geometry", "disk geometry is not configurable" },
    { "disk", "wwn", "WWNs are a SCSI property; disks are virtio-blk" },
    { "disk", "vendor", "vendor strings are a SCSI property; disks are virtio-blk" },
    { "disk", "product", "product strings are a SCSI property; disks are virtio-blk" },
    /* <interface> */
    { "interface", "boot", "there is no firmware to order boot devices" },
    { "interface", "alias", "device aliases are runtime state; use the inactive XML" },
    { "interface", "driver", "virtio-net driver options are not supported" },
    { "interface", "bandwidth", "bandwidth limits are not supported" },
    { "interface", "virtualport", "virtual ports (Open vSwitch, 802.1Qbh) are not supported" },
    { "interface", "vlan", "VLAN tagging is not supported" },
    { "interface", "filterref", "network filters are not supported" },
    { "interface", "link", "link state control is not supported" },
    { "interface", "mtu", "the MTU is the tap's: it is not configurable here" },
    { "interface", "rom", "there is no option ROM: no firmware runs" },
    { "interface", "script", "interface scripts are not run" },
    { "interface", "guest", "the guest-side name is not configurable" },
    { "interface", "ip", "addresses are the guest's business, not the tap's" },
    { "interface", "route", "routes are the guest's business, not the tap's" },
    { "interface", "coalesce", "interrupt coalescing is not configurable" },
    { "interface", "teaming", "NIC teaming is not supported" },
    { "interface", "backend", "the tap is opened by mgmtd; its backend is not configurable" },
    { "interface", "tune", "tap tuning is not supported" },
    /* character devices */
    { "serial", "log", "chardev logs are not supported; use type='file'" },
    { "console", "log", "chardev logs are not supported; use type='file'" },
    { "serial", "alias", "device aliases are runtime state; use the inactive XML" },
    { "console", "alias", "device aliases are runtime state; use the inactive XML" },
    { "serial", "protocol", "network chardevs are not supported" },
    { "console", "protocol", "network chardevs are not supported" },
    { "rng", "alias", "device aliases are runtime state; use the inactive XML" },
    { "rng", "driver", "virtio-rng driver options are not supported" },
    { "controller", "alias", "device aliases are runtime state; use the inactive XML" },
    { "controller", "driver", "controller driver options are not supported" },
    { "controller", "model", "controller models are not configurable" },
    { "controller", "target", "controller target options are not configurable" },
    { "memballoon", "stats", "there is no balloon device to report statistics" },
    { "input", "alias", "device aliases are runtime state; use the inactive XML" },
};

struct attr_refusal {
    const char *elem;
    const char *attr;
    const char *why;
};

static const struct attr_refusal attrs[] = {
    { "domain", "id", "it is runtime state; use the inactive XML (virsh dumpxml --inactive)" },
    { "vcpu", "cpuset", "vCPU pinning is not supported" },
    { "memory", "dumpCore", "core dump filtering is not supported" },
    { "os", "firmware", "firmware is not supported; boot a kernel with <kernel>" },
    { "cpu", "match", "it applies to custom CPU models only; use mode='host-passthrough'" },
    { "clock", "adjustment", "the RTC keeps the host's UTC; no adjustment is supported" },
    { "clock", "basis", "the RTC keeps the host's UTC; no adjustment is supported" },
    { "clock", "timezone", "the RTC keeps the host's UTC; no time zone is supported" },
    { "timer", "track", "the machine's timers have no such setting" },
    { "timer", "frequency", "the machine's timers have no such setting" },
    { "timer", "mode", "the machine's timers have no such setting" },
    { "disk", "snapshot", "snapshots are not supported" },
    { "disk", "model", "disks are modern virtio-blk only" },
    { "disk", "rawio", "disks are virtio-blk, not SCSI LUNs" },
    { "disk", "sgio", "disks are virtio-blk, not SCSI LUNs" },
    { "driver", "error_policy", "an I/O error fails the guest's request (VIRTIO_BLK_S_IOERR)" },
    { "driver", "rerror_policy", "an I/O error fails the guest's request (VIRTIO_BLK_S_IOERR)" },
    { "driver", "detect_zeroes", "zero detection is not supported" },
    { "driver", "iothread", "I/O threads are not configurable (each device has its own)" },
    { "driver", "queues", "virtio-blk has one queue here" },
    { "driver", "queue_size", "the queue size is not configurable" },
    { "driver", "copy_on_read", "images are raw: there is nothing to copy on read" },
    { "driver", "metadata_cache", "images are raw: there is no metadata cache" },
    { "driver", "iommu", "there is no IOMMU" },
    { "driver", "ats", "there is no IOMMU" },
    { "driver", "packed", "packed virtqueues are not offered" },
    { "target", "removable", "virtio-blk disks are not removable" },
    { "target", "rotation_rate", "virtio-blk has no rotation rate" },
    { "target", "tray", "virtio-blk disks have no tray" },
    { "target", "managed", "the tap is always created or opened by mgmtd" },
    { "address", "multifunction", "devices are single-function" },
    { "address", "zpci", "this is not an s390 machine" },
    { "source", "append", "a file chardev is truncated when the guest starts" },
    { "source", "seclabel", "security labels are not applied" },
    { "source", "startupPolicy", "a missing image is an error at start" },
    { "memballoon", "autodeflate", "there is no balloon device" },
    { "memballoon", "freePageReporting", "there is no balloon device" },
    { "apic", "eoi", "paravirtual EOI is not configurable" },
    { "controller", "ports", "the virtio-serial device has one port, hvc0" },
    { "controller", "vectors", "MSI-X vectors are one per queue and not configurable" },
    { "controller", "maxGrantFrames", "this is not a Xen machine" },
    { "mac", "type", "the MAC address is taken as given" },
    { "mac", "check", "the MAC address is taken as given" },
};

const char *md_refusal_elem(const char *parent, const char *name)
{
    for (size_t i = 0; i < sizeof(elems) / sizeof(elems[0]); i++)
        if ((!elems[i].parent || !strcmp(elems[i].parent, parent)) && !strcmp(elems[i].name, name))
            return elems[i].why;
    return NULL;
}

const char *md_refusal_attr(const char *elem, const char *attr)
{
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
        if (!strcmp(attrs[i].elem, elem) && !strcmp(attrs[i].attr, attr))
            return attrs[i].why;
    return NULL;
}
