/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A machine for the monitor's tests and its fuzzer: a run state and the
 * calls made to it, no VM. The commands see two vCPUs, one disk and one
 * chardev, so that every query has something to show.
 */
#ifndef QMP_FAKE_MACHINE_H
#define QMP_FAKE_MACHINE_H

#include <pthread.h>

#include "monitor/monitor.h"

struct fake_machine {
    struct em_qmp_machine m;
    struct em_qmp_disk disk;
    struct em_qmp_chardev chardev;
    struct em_monitor *mon; /* events go here when set */

    pthread_mutex_t lock;
    enum em_run_state state;
    unsigned stops, conts, powerdowns, resets, quits;
    /* Set by the test: stop takes this long (a command in progress). */
    unsigned stop_delay_ms;
    /* quit calls this (the server ends its loop). */
    void (*on_quit)(struct fake_machine *f);
};

void fake_machine_init(struct fake_machine *f);
void fake_machine_fini(struct fake_machine *f);
/* Any thread. */
unsigned fake_machine_calls(struct fake_machine *f, const unsigned *counter);

#endif
