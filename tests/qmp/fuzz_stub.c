/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fuzz target's machine has no monitor (fake_machine.c sends events
 * only when f->mon is set, which the target never does), so monitor.c and
 * libuv stay out of it: this stands in for the one function it names.
 */
#include "monitor/monitor.h"

void em_monitor_event(struct em_monitor *mon, const char *event, json_object *data)
{
    (void)mon;
    (void)event;
    json_object_put(data);
}
