/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"

static int if_ioctl(unsigned long req, struct ifreq *ifr)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

    if (s < 0)
        return -errno;
    if (ioctl(s, req, ifr) < 0)
        ret = -errno;
    close(s);
    return ret;
}

static int bring_up(const char *name)
{
    struct ifreq ifr = { 0 };
    int ret;

    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    ret = if_ioctl(SIOCGIFFLAGS, &ifr);
    if (ret < 0)
        return ret;
    ifr.ifr_flags |= IFF_UP;
    return if_ioctl(SIOCSIFFLAGS, &ifr);
}

static int add_to_bridge(const char *bridge, const char *name)
{
    struct ifreq ifr = { 0 };
    unsigned idx = if_nametoindex(name);

    if (!idx)
        return -errno;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", bridge);
    ifr.ifr_ifindex = (int)idx;
    return if_ioctl(SIOCBRADDIF, &ifr);
}

int md_tap_open(const char *want, const char *bridge, char name[MD_TAP_NAME_MAX],
                struct md_err *err)
{
    struct ifreq ifr = { 0 };
    int fd, ret;

    if (want && strlen(want) >= IFNAMSIZ)
        return md_err_set(err, -ENAMETOOLONG, 0, "tap %s: an interface name has at most %d bytes",
                          want, IFNAMSIZ - 1);
    if (bridge && !if_nametoindex(bridge))
        return md_err_set(err, -ENODEV, 0, "bridge %s: no such network interface", bridge);
    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return md_err_set(err, -errno, 0, "tap: cannot open /dev/net/tun: %s", strerror(errno));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", want && *want ? want : "vnet%d");
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        ret = -errno;
        close(fd);
        return md_err_set(err, ret, 0, "tap %s: cannot create it: %s",
                          want && *want ? want : "vnet%d", strerror(-ret));
    }
    snprintf(name, MD_TAP_NAME_MAX, "%s", ifr.ifr_name);
    ret = bring_up(name);
    if (ret < 0) {
        close(fd);
        return md_err_set(err, ret, 0, "tap %s: cannot bring it up: %s", name, strerror(-ret));
    }
    if (bridge) {
        ret = add_to_bridge(bridge, name);
        if (ret < 0) {
            close(fd);
            return md_err_set(err, ret, 0, "tap %s: cannot add it to bridge %s: %s", name, bridge,
                              strerror(-ret));
        }
    }
    return fd;
}
