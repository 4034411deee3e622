/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * <interface type='ethernet'|'bridge'>: a virtio-net NIC on a tap that
 * mgmtd creates (and, for a bridge, attaches), kvmemu's --net tap,fd=N.
 * Virtual networks, macvtap, user-mode networking and the rest are
 * refused until the stack has them.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const refused_types[][2] = {
    { "network", "virtual networks are not supported; use type='bridge' or type='ethernet'" },
    { "user", "user-mode networking is not supported; use type='bridge' or type='ethernet'" },
    { "direct", "macvtap is not supported; use type='bridge' or type='ethernet'" },
    { "hostdev", "host device assignment is not supported" },
    { "vhostuser", "vhost-user is not supported; use type='bridge' or type='ethernet'" },
    { "vdpa", "vDPA is not supported; use type='bridge' or type='ethernet'" },
};

/* A Linux interface name that kvmemu's option syntax can carry. */
static bool ifname_ok(const char *s)
{
    size_t len = strlen(s);

    return len > 0 && len <= MD_IFNAME_MAX && strcmp(s, ".") && strcmp(s, "..") &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == len;
}

static int mac_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_interface *nic = obj;
    const char *address = md_attr(n, "address");
    static const uint8_t zero[6];
    int ret = md_leaf(c, n, MD_ATTRS("address"));

    if (ret)
        return ret;
    if (!address)
        return md_fail(c, n, "the attribute 'address' is required");
    if (!md_mac_parse(address, nic->mac))
        return md_fail_attr(c, n, "address",
                            "'%s' is not a MAC address (six hexadecimal pairs with ':', as "
                            "52:54:00:12:34:56)",
                            address);
    if (nic->mac[0] & 1)
        return md_fail_attr(c, n, "address",
                            "'%s' is a multicast address; a NIC needs a unicast "
                            "one",
                            address);
    if (!memcmp(nic->mac, zero, 6))
        return md_fail_attr(c, n, "address", "the all-zero MAC address is not valid");
    return 0;
}

static int source_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_interface *nic = obj;
    const char *bridge = md_attr(n, "bridge");
    int ret;

    if (nic->type != MD_NET_BRIDGE)
        return md_fail(c, n, "type='ethernet' has no <source>: the tap is <target dev='...'/>");
    ret = md_leaf(c, n, MD_ATTRS("bridge"));
    if (ret)
        return ret;
    if (!bridge)
        return md_fail(c, n, "the attribute 'bridge' is required");
    if (!ifname_ok(bridge))
        return md_fail_attr(c, n, "bridge",
                            "'%s' is not an interface name (1 to %d letters, digits, '_', '.', "
                            "'-')",
                            bridge, MD_IFNAME_MAX);
    return md_strdup(c, bridge, &nic->bridge);
}

static int target_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_interface *nic = obj;
    const char *dev = md_attr(n, "dev");
    int ret = md_leaf(c, n, MD_ATTRS("dev"));

    if (ret)
        return ret;
    if (!dev)
        return md_fail(c, n, "the attribute 'dev' is required");
    if (!ifname_ok(dev))
        return md_fail_attr(c, n, "dev",
                            "'%s' is not an interface name (1 to %d letters, digits, '_', '.', "
                            "'-')",
                            dev, MD_IFNAME_MAX);
    return md_strdup(c, dev, &nic->ifname);
}

static int model_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    const char *type = md_attr(n, "type");
    int ret = md_leaf(c, n, MD_ATTRS("type"));

    (void)obj;
    if (ret)
        return ret;
    if (!type || strcmp(type, "virtio"))
        return md_fail(c, n, "the only NIC model is virtio; use <model type='virtio'/>");
    return 0;
}

static int address_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_interface *nic = obj;

    return md_address_parse(c, n, &nic->addr);
}

static const struct md_child interface_children[] = {
    { "mac", mac_parse, false },         { "source", source_parse, false },
    { "target", target_parse, false },   { "model", model_parse, false },
    { "address", address_parse, false }, { NULL, NULL, false },
};

int md_interface_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    const char *type = md_attr(n, "type");
    struct md_interface *nic;
    bool has_mac = false;
    int ret = md_attrs_only(c, n, MD_ATTRS("type"));

    if (ret)
        return ret;
    if (!type)
        return md_fail(c, n, "the attribute 'type' is required: 'bridge' or 'ethernet'");
    for (size_t i = 0; i < sizeof(refused_types) / sizeof(refused_types[0]); i++)
        if (!strcmp(type, refused_types[i][0]))
            return md_fail(c, n, "%s", refused_types[i][1]);
    if (strcmp(type, "bridge") && strcmp(type, "ethernet"))
        return md_fail(c, n,
                       "the interface type '%s' is not supported; use type='bridge' or "
                       "type='ethernet'",
                       type);
    if (def->nr_nics == MD_MAX_NICS)
        return md_fail(c, n, "at most %d interfaces are supported (kvmemu's limit)", MD_MAX_NICS);
    nic = &def->nics[def->nr_nics++];
    *nic = (struct md_interface){
        .type = strcmp(type, "bridge") ? MD_NET_ETHERNET : MD_NET_BRIDGE,
        .line = md_line(n),
    };
    ret = md_children(c, n, interface_children, nic);
    if (ret)
        return ret;
    if (nic->type == MD_NET_BRIDGE && !nic->bridge)
        return md_fail(c, n, "a <source bridge='...'/> is required");
    for (xmlNode *k = n->children; k; k = k->next)
        has_mac |= k->type == XML_ELEMENT_NODE && !strcmp((const char *)k->name, "mac");
    if (!has_mac)
        c->seen.nic_mac_missing |= 1u << (def->nr_nics - 1);
    return 0;
}

void md_interface_format(struct md_buf *b, const struct md_interface *nic)
{
    char mac[18];

    md_mac_format(nic->mac, mac);
    md_buf_open(b, "interface");
    md_buf_attr(b, "type", nic->type == MD_NET_BRIDGE ? "bridge" : "ethernet");
    md_buf_open_end(b);
    md_buf_open(b, "mac");
    md_buf_attr(b, "address", mac);
    md_buf_empty_end(b);
    if (nic->bridge) {
        md_buf_open(b, "source");
        md_buf_attr(b, "bridge", nic->bridge);
        md_buf_empty_end(b);
    }
    if (nic->ifname) {
        md_buf_open(b, "target");
        md_buf_attr(b, "dev", nic->ifname);
        md_buf_empty_end(b);
    }
    md_buf_open(b, "model");
    md_buf_attr(b, "type", "virtio");
    md_buf_empty_end(b);
    md_address_format(b, &nic->addr);
    md_buf_close(b, "interface");
}

void md_interface_clear(struct md_interface *nic)
{
    free(nic->bridge);
    free(nic->ifname);
    *nic = (struct md_interface){ 0 };
}
