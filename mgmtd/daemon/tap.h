/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tap devices for <interface type='ethernet'|'bridge'>: created by the
 * daemon (root), brought up, added to a bridge if asked, and handed to the
 * emulator as an open descriptor. The tap is not persistent: it goes away
 * when the last descriptor (the emulator's) closes.
 */
#ifndef MD_TAP_H
#define MD_TAP_H

#include "err.h"

#define MD_TAP_NAME_MAX 16 /* IFNAMSIZ */

/*
 * Opens a tap called `want` (NULL or "": the kernel picks "vnetN"), with
 * IFF_VNET_HDR as kvmemu's virtio-net expects; its name in `name`. With
 * `bridge`, the tap joins that bridge (which must exist). The descriptor,
 * or -errno with err naming the tap or bridge.
 */
int md_tap_open(const char *want, const char *bridge, char name[MD_TAP_NAME_MAX],
                struct md_err *err);

#endif
