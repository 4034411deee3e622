/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The QMP protocol engine, without sockets or threads: one session per
 * client turns the bytes it sent into replies (session.c), the commands
 * act on the machine through the interface below (commands.c), and events
 * are formatted once for every client (event.c). monitor.c serves it on
 * sockets; the unit tests and the fuzzer drive it on a fake machine.
 *
 * Wire format (QEMU's docs/interop/qmp-spec): every message is one JSON
 * object on one line ending in CRLF. A message longer than
 * EM_QMP_MAX_MESSAGE bytes ends the connection.
 */
#ifndef EM_QMP_H
#define EM_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "timeline.h"

#define EM_QMP_MAX_MESSAGE (1u << 20)

/* QEMU's RunState values that kvmemu can be in. */
enum em_run_state {
    EM_RUN_PRELAUNCH, /* --paused: no vCPU has run yet */
    EM_RUN_RUNNING,
    EM_RUN_PAUSED,
    EM_RUN_SHUTDOWN,
    EM_RUN_GUEST_PANICKED,
    EM_RUN_INTERNAL_ERROR,
};

const char *em_run_state_name(enum em_run_state s);

/* A disk as query-block shows it. */
struct em_qmp_disk {
    char device[24]; /* "virtio0"; room for any unsigned index */
    char node[16];   /* "disk0" */
    const char *file;
    bool readonly;
    bool direct; /* cache=none */
    uint64_t size;
};

struct em_qmp_chardev {
    char label[16];     /* "serial0" */
    char filename[160]; /* "stdio", "file:PATH", "unix:PATH,server=on", "pty:/dev/pts/N" */
    bool frame_opened;  /* false: a socket without its client */
};

/*
 * What the commands do to the machine. Every hook is called on the
 * monitor's thread and returns 0, or -errno after writing a message for
 * the client into err (one sentence, no trailing period, as QEMU's).
 */
struct em_qmp_machine_ops {
    enum em_run_state (*state)(void *opaque);
    /* Returns once no vCPU executes guest code. */
    int (*stop)(void *opaque, char *err, size_t errlen);
    int (*cont)(void *opaque, char *err, size_t errlen);
    /* Presses the ACPI power button. */
    int (*powerdown)(void *opaque, char *err, size_t errlen);
    int (*reset)(void *opaque, char *err, size_t errlen);
    /* Ends the emulator after the reply has gone out. */
    int (*quit)(void *opaque, char *err, size_t errlen);
    /* The host thread id of vCPU i, or -1. */
    int (*cpu_thread_id)(void *opaque, unsigned i);
    /* Character device i as it is now; false past the last one. */
    bool (*chardev)(void *opaque, unsigned i, struct em_qmp_chardev *out);
    /* Instructions kvmemu completed for the host (int3, fwait). Optional. */
    void (*completed)(void *opaque, unsigned long *int3, unsigned long *fwait);
};

/* The machine: its hooks and what does not change while it runs. */
struct em_qmp_machine {
    const struct em_qmp_machine_ops *ops;
    void *opaque;
    const char *name; /* NULL: query-name returns {} */
    char uuid[37];    /* "" reads as the nil UUID, as QEMU's */
    unsigned ncpus;
    unsigned nr_disks;
    const struct em_qmp_disk *disks;
    struct em_timeline *timeline; /* optional */
};

/* ---- sessions (session.c) ---- */

struct em_qmp_session;

/* Where a session's output goes: one whole message, CRLF included. */
typedef void (*em_qmp_send_fn)(void *opaque, const char *msg, size_t len);

struct em_qmp_session *em_qmp_session_create(const struct em_qmp_machine *m, em_qmp_send_fn send,
                                             void *opaque);
void em_qmp_session_destroy(struct em_qmp_session *s);
/* Sends the greeting. */
void em_qmp_session_greet(struct em_qmp_session *s);
/*
 * Takes bytes the client sent, in any split, and answers each complete
 * message. 0, or -EMSGSIZE once a message passed EM_QMP_MAX_MESSAGE (the
 * client was told; the caller closes the connection).
 */
int em_qmp_session_feed(struct em_qmp_session *s, const char *buf, size_t len);
/* Out of negotiation: events go to it. */
bool em_qmp_session_in_command_mode(const struct em_qmp_session *s);

/* ---- dispatch (commands.c) ---- */

/*
 * Answers one parsed message (any JSON value): the reply object, which
 * the caller frees. *negotiating is the session's mode; qmp_capabilities
 * clears it.
 */
json_object *em_qmp_dispatch(const struct em_qmp_machine *m, bool *negotiating, json_object *msg);
/* The error reply QMP defines: {"error": {"class", "desc"}}. */
json_object *em_qmp_error(const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Number of commands, and the name of command i (query-commands, tests). */
unsigned em_qmp_command_count(void);
const char *em_qmp_command_name(unsigned i);

/* ---- messages (event.c) ---- */

/* The greeting, with kvmemu's version. The caller frees it. */
json_object *em_qmp_greeting(void);
/* One event line (CRLF included) with the current time; takes `data`
 * (may be NULL: no data member, as QEMU omits it). malloc'ed; NULL when
 * out of memory. */
char *em_qmp_event_line(const char *event, json_object *data, size_t *len);
/* A message as one line: plain JSON and CRLF. malloc'ed. */
char *em_qmp_line(json_object *msg, size_t *len);

#endif
