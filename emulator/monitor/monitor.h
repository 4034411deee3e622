/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor: QMP (qmp.h) served on unix sockets by a thread of its own
 * running a libuv loop. Any number of clients, each with its own session;
 * events go to every client past negotiation.
 *
 * A listener is a path (the socket is created with mode 0600, a stale
 * socket at the path is replaced) or a descriptor: a listening socket
 * (as libvirt passes one) or one already connected client.
 */
#ifndef EM_MONITOR_H
#define EM_MONITOR_H

#include <kvmcore/kvmcore.h>

#include "monitor/qmp.h"

#define EM_MONITOR_MAX_LISTENERS 4

struct em_monitor;

/* `machine` must outlive the monitor. NULL after logging why. */
struct em_monitor *em_monitor_create(const struct em_qmp_machine *machine,
                                     const struct kc_logger *log);
/* Before em_monitor_start(). 0, or -errno after logging (path named). */
int em_monitor_listen_unix(struct em_monitor *mon, const char *path);
int em_monitor_listen_fd(struct em_monitor *mon, int fd);
int em_monitor_start(struct em_monitor *mon);

/* Any thread. Takes `data` (NULL: the event has none). */
void em_monitor_event(struct em_monitor *mon, const char *event, json_object *data);

/* Clients connected now (tests). Any thread. */
unsigned em_monitor_clients(struct em_monitor *mon);

/*
 * Sends what is queued (replies and events, up to a second's wait for
 * slow readers), closes every client and the listeners, removes the
 * socket files it created, and joins the thread.
 */
void em_monitor_destroy(struct em_monitor *mon);

#endif
