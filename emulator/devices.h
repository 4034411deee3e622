/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The board: which devices the machine has, in the order they are created.
 * Each entry's create function lives in the device's own file, registers
 * the device's ports and MMIO, and adds it with em_machine_add_device().
 */
#ifndef EM_DEVICES_H
#define EM_DEVICES_H

#include "machine.h"

/* Creates every device of the board table; unwinds nothing itself (the
 * machine destroys what was added). */
int em_board_create(struct em_machine *m);

int em_debug_exit_create(struct em_machine *m);
int em_uart_create(struct em_machine *m);
int em_pci_create(struct em_machine *m);
int em_post_create(struct em_machine *m);
int em_i8042_create(struct em_machine *m);
int em_rtc_create(struct em_machine *m);
int em_pm_create(struct em_machine *m);
int em_fw_cfg_create(struct em_machine *m);
int em_pvpanic_create(struct em_machine *m);

#endif
