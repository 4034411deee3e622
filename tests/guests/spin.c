/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Counts forever at 0x8000 without a single exit: for pause/resume tests. */
#include "guest.h"

int main(void)
{
    volatile uint64_t *counter = (volatile uint64_t *)0x8000;

    for (;;)
        (*counter)++;
}
