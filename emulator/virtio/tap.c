/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opening and checking tap devices for virtio-net; see tap.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "virtio/tap.h"

#define TUN_PATH "/dev/net/tun"

/* The header size VERSION_1 fixes, whatever features are negotiated. */
static const int vnet_hdr_len = sizeof(struct virtio_net_hdr_v1);

static int set_hdr_len(struct em_tap *t, const char *what, const struct kc_logger *log)
{
    int err;

    if (ioctl(t->fd, TUNSETVNETHDRSZ, &vnet_hdr_len) < 0) {
        err = errno;
        kc_log(log, KC_LOG_ERROR, "net %s: cannot set the vnet header size to %d: %s", what,
               vnet_hdr_len, strerror(err));
        return -err;
    }
    t->hdr_len = (unsigned)vnet_hdr_len;
    return 0;
}

int em_tap_open(struct em_tap *t, const char *ifname, const struct kc_logger *log)
{
    struct ifreq ifr;
    int err;

    t->fd = -1;
    t->hdr_len = 0;
    if (!ifname[0] || strlen(ifname) >= IFNAMSIZ) {
        kc_log(log, KC_LOG_ERROR, "net: '%s' is not an interface name (1 to %d bytes)", ifname,
               IFNAMSIZ - 1);
        return -EINVAL;
    }
    snprintf(t->name, sizeof(t->name), "%s", ifname);
    t->fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0) {
        err = errno;
        kc_log(log, KC_LOG_ERROR, "net %s: cannot open %s: %s", ifname, TUN_PATH, strerror(err));
        return -err;
    }
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
        err = errno;
        /* EINVAL: the name belongs to another kind of interface (or a tap
         * with other flags); EPERM: not ours, or no CAP_NET_ADMIN. */
        kc_log(log, KC_LOG_ERROR, "net %s: cannot attach to the tap device: %s%s", ifname,
               strerror(err),
               err == EINVAL ? " (an interface of another kind, or a tap with other flags, has "
                               "this name)"
                             : "");
        goto fail;
    }
    snprintf(t->name, sizeof(t->name), "%s", ifr.ifr_name);
    err = -set_hdr_len(t, t->name, log);
    if (err)
        goto fail;
    return 0;

fail:
    close(t->fd);
    t->fd = -1;
    return -err;
}

int em_tap_adopt(struct em_tap *t, int fd, const struct kc_logger *log)
{
    char what[32];
    struct ifreq ifr;
    int flags, err;

    t->fd = -1;
    t->hdr_len = 0;
    snprintf(what, sizeof(what), "fd=%d", fd);
    memset(&ifr, 0, sizeof(ifr));
    if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
        err = errno;
        kc_log(log, KC_LOG_ERROR, "net %s: not a tap device: %s", what,
               err == EBADFD ? "a " TUN_PATH " descriptor attached to no interface"
               : err == ENOTTY || err == EINVAL ? "TUNGETIFF does not apply to it"
                                                : strerror(err));
        return -(err == EBADFD || err == ENOTTY ? EINVAL : err);
    }
    snprintf(t->name, sizeof(t->name), "%s", ifr.ifr_name);
    snprintf(what, sizeof(what), "fd=%d (%s)", fd, t->name);
    if (!(ifr.ifr_flags & IFF_TAP)) {
        kc_log(log, KC_LOG_ERROR, "net %s: a TUN (IP) device, not a TAP (Ethernet) one", what);
        return -EINVAL;
    }
    /* A duplicate, so that the caller's descriptor stays the caller's. */
    t->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    flags = t->fd < 0 ? -1 : fcntl(t->fd, F_GETFL);
    if (flags < 0 || fcntl(t->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        err = errno;
        kc_log(log, KC_LOG_ERROR, "net %s: cannot make it non-blocking: %s", what, strerror(err));
        goto fail;
    }
    if (ifr.ifr_flags & IFF_VNET_HDR) {
        err = -set_hdr_len(t, what, log);
        if (err)
            goto fail;
    }
    return 0;

fail:
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    return -err;
}

void em_tap_close(struct em_tap *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}
