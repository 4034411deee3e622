/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine under the monitor: what QMP's commands act on (machine.h's
 * control functions, the power button, the disks and chardevs as queries
 * show them) and the monitor itself, listening where --monitor says.
 */
#ifndef EM_CONTROL_H
#define EM_CONTROL_H

#include <json-c/json.h>

struct em_machine;
struct em_control;

/* With the whole machine built, before the vCPUs run. NULL after
 * reporting why (a socket that cannot be created, named). */
struct em_control *em_control_create(struct em_machine *m);
/* Sends what is queued, closes every client, removes the sockets. */
void em_control_destroy(struct em_control *c);
/* Any thread; takes `data`. */
void em_control_event(struct em_control *c, const char *event, json_object *data);

#endif
