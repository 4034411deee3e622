/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The domain driver: every domain the daemon knows, persistent or
 * transient, running or not; what the API's methods do to them; and the
 * emulators behind the running ones.
 *
 * Everything runs on the daemon's one libuv loop. Operations that change a
 * domain are jobs, run one at a time per domain (in arrival order); jobs of
 * different domains interleave, so a slow start does not hold up the rest.
 */
#ifndef MD_DRIVER_H
#define MD_DRIVER_H

#include <stdbool.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <uv.h>

#include "api.h"
#include "conf/domain.h"
#include "paths.h"
#include "qmpc.h"

/* virsh's states. */
enum md_state {
    MD_STATE_SHUTOFF,
    MD_STATE_RUNNING,
    MD_STATE_PAUSED,
    MD_STATE_IN_SHUTDOWN,
    MD_STATE_CRASHED,
};

const char *md_state_name(enum md_state s); /* "shut off", "running", ... */

struct md_driver;
struct md_domain;

struct md_driver_config {
    const char *root;         /* --root, or NULL */
    const char *emulator;     /* the kvmemu binary */
    const char *user, *group; /* the emulators' (NULL: the default) */
    gid_t admin_gid;          /* (gid_t)-1: none */
    int shutdown_grace_ms;    /* destroy: SIGTERM, then SIGKILL after this */
    int start_timeout_ms;     /* an emulator that does not answer is killed */
};

struct md_driver *md_driver_create(uv_loop_t *loop, const struct md_driver_config *cfg,
                                   struct md_err *err);
/* Loads the definitions, reattaches to emulators still running, starts
 * the autostart domains, opens the API sockets. */
int md_driver_start(struct md_driver *drv, struct md_err *err);
/* Closes the API and the monitors; the emulators keep running. */
void md_driver_destroy(struct md_driver *drv);

#endif
