/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The virtio devices on the machine (board.c). */
#ifndef EM_VIRTIO_BOARD_H
#define EM_VIRTIO_BOARD_H

#include "machine.h"

/*
 * Creates every virtio device the configuration asks for (disks, NICs,
 * the rng, the console), each through its factory (devices.h), plugged
 * into the PCI bus (the "pci" device, created before) at the next free
 * slot, and added to the machine for reset and teardown. Call it after
 * em_pci_create(). Returns 0, or -errno after the failing device was
 * reported; what was added is destroyed by the machine.
 */
int em_virtio_board_create(struct em_machine *m);

/* Disk i's device model (for the monitor), NULL if there is none. */
struct em_vblk *em_virtio_board_disk(struct em_machine *m, unsigned i);

#endif
