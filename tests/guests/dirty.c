/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes one word into each page the host listed at 0x8000 (a count, then
 * page numbers) inside the 1 MiB region at 16 MiB, then exits. The host
 * checks that dirty logging reports exactly those pages.
 */
#include "guest.h"

#define LIST   ((volatile uint64_t *)0x8000)
#define REGION 0x1000000ul

int main(void)
{
    uint64_t n = LIST[0];

    for (uint64_t i = 0; i < n; i++) {
        uint64_t page = LIST[1 + i];

        /* Vary the offset inside the page, so that it is not always the first byte. */
        *(volatile uint64_t *)(REGION + page * 4096 + (page * 8) % 4096) = 0x5a5a0000 + page;
    }
    return 0;
}
