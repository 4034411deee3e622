/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The board table: one line per device, created in this order. */
#include <stddef.h>

#include "devices.h"
#include "virtio/board.h"

struct board_entry {
    const char *name;
    int (*create)(struct em_machine *m);
};

/* One device per line, in creation order: the PCI bus first, since later
 * devices may plug into it. */
/* clang-format off */
static const struct board_entry board[] = {
    { "pci", em_pci_create },
    { "post", em_post_create },
    { "i8042", em_i8042_create },
    { "rtc", em_rtc_create },
    { "pm", em_pm_create },
    { "fw_cfg", em_fw_cfg_create },
    { "com1", em_uart_create },
    { "debug-exit", em_debug_exit_create },
    { "pvpanic", em_pvpanic_create },
    { "virtio", em_virtio_board_create },
};
/* clang-format on */

int em_board_create(struct em_machine *m)
{
    for (size_t i = 0; i < sizeof(board) / sizeof(board[0]); i++) {
        int ret = board[i].create(m);

        /* The device said why; this only tells a debugging reader where. */
        if (ret < 0) {
            kc_log(em_machine_logger(m), KC_LOG_DEBUG, "board: device %s failed (%d)",
                   board[i].name, ret);
            return ret;
        }
    }
    return 0;
}
