/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgmtd's side of an emulator's monitor: an asynchronous QMP client on the
 * daemon's libuv loop. It connects, reads the greeting, negotiates, then
 * sends commands in order and hands each reply to its callback; events go
 * to the event callback. When the connection ends (the emulator exited, or
 * sent something that is not QMP) every pending command fails and the
 * closed callback runs once; the object is freed after it.
 */
#ifndef MD_QMPC_H
#define MD_QMPC_H

#include <stdbool.h>

#include <json-c/json.h>
#include <uv.h>

struct md_qmpc;

struct md_qmpc_ops {
    /* Negotiation is done: commands may be sent (they may be before: they
     * wait). */
    void (*ready)(void *opaque);
    void (*event)(void *opaque, const char *name, json_object *data);
    /* The connection is gone; `why` says how. Called once. */
    void (*closed)(void *opaque, const char *why);
};

/* `ret` is the "return" value (borrowed), or NULL with `error` set to the
 * error's desc (or why the command got no answer). */
typedef void (*md_qmpc_reply_fn)(void *opaque, json_object *ret, const char *error);

/* Connects to a unix socket path. NULL only when out of memory. */
struct md_qmpc *md_qmpc_connect(uv_loop_t *loop, const char *path, const struct md_qmpc_ops *ops,
                                void *opaque);
/* Queues a command; `args` (taken) may be NULL; `cb` may be NULL. */
void md_qmpc_execute(struct md_qmpc *q, const char *command, json_object *args, md_qmpc_reply_fn cb,
                     void *cb_opaque);
bool md_qmpc_is_ready(const struct md_qmpc *q);
/* Closes without calling `closed` (not even when the connection was already
 * ending); pending commands get their error before it returns. Nothing of
 * this connection calls back afterwards. */
void md_qmpc_close(struct md_qmpc *q);

#endif
