/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tap device as virtio-net's backend: opened by name (created if it does
 * not exist, which needs CAP_NET_ADMIN) or taken from a descriptor someone
 * else opened (mgmtd, a test). Either way it is a TAP (Ethernet frames),
 * without the 4-byte packet-information prefix, and non-blocking.
 *
 * With IFF_VNET_HDR the tap puts a virtio-net header in front of every
 * frame both ways; its size is set to the 12 bytes of VERSION_1's struct
 * virtio_net_hdr_v1, little-endian like the x86 host (no TUNSETVNETLE).
 * A descriptor opened without IFF_VNET_HDR is used too, header-less.
 */
#ifndef EM_VIRTIO_TAP_H
#define EM_VIRTIO_TAP_H

#include <net/if.h>

#include <kvmcore/kvmcore.h>

struct em_tap {
    int fd;
    char name[IFNAMSIZ]; /* the interface, as the kernel names it */
    unsigned hdr_len;    /* 12 with a vnet header, 0 without */
};

/*
 * Attaches to (or creates) the tap `ifname` with IFF_VNET_HDR. 0, or
 * -errno after reporting, naming the interface.
 */
int em_tap_open(struct em_tap *t, const char *ifname, const struct kc_logger *log);

/*
 * Uses the tap open on `fd`: checks that it is one (TUNGETIFF) and makes
 * it non-blocking. It must have been opened with IFF_NO_PI, which cannot
 * be checked: TUNGETIFF reports that bit as IFF_NOFILTER, set either way.
 * The device works on a duplicate; the caller still owns (and closes)
 * `fd`. 0, or -errno after reporting, naming the descriptor.
 */
int em_tap_adopt(struct em_tap *t, int fd, const struct kc_logger *log);

/* Closes the device's descriptor; safe on a tap never opened (fd -1). */
void em_tap_close(struct em_tap *t);

#endif
