/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The driver's parts: shared between driver.c, domain.c, run.c, status.c. */
#ifndef MD_INTERNAL_H
#define MD_INTERNAL_H

#include "driver.h"

struct md_job;
struct md_domain;

/* A job's deadline. */
struct md_deadline {
    uv_timer_t handle; /* first: the close callback frees the whole */
    struct md_domain *d;
    void (*fn)(struct md_domain *d);
};

/* A job's body: runs when the domain's earlier jobs are done; it ends with
 * job_done() (now or from a later callback). */
typedef void (*md_job_fn)(struct md_domain *d, struct md_job *job);

struct md_job {
    md_job_fn run;
    struct md_api_call *call; /* NULL for the daemon's own jobs */
    /* The parameters the methods need. */
    bool paused;   /* start */
    bool force;    /* undefine: keep running; console: take over */
    bool graceful; /* destroy */
    int timeout_ms;
    struct md_job *next;
};

struct md_domain {
    struct md_driver *drv;
    char name[MD_NAME_MAX + 1];
    uint8_t uuid[16];
    char uuid_str[37];

    struct md_domain_def *def;    /* persistent; NULL for a transient domain */
    struct md_domain_def *newdef; /* defined while running: for the next start */
    struct md_domain_def *live;   /* what runs; NULL when shut off */
    bool autostart;

    enum md_state state;
    const char *reason;
    int id; /* -1 when shut off */

    /* The emulator. */
    pid_t pid;
    bool our_child;                /* reaped with waitpid; else only watched */
    unsigned long long start_time; /* /proc/PID/stat field 22: the pid is still it */
    int pidfd;
    uv_poll_t *exit_watch;
    struct md_qmpc *mon;
    char taps[MD_MAX_NICS][16];
    /* What the end of the emulator means, learnt from its last events. */
    const char *stop_reason; /* "shutdown", "destroyed", "crashed" */
    bool guest_shutdown;     /* SHUTDOWN with guest: true */
    bool panicked;
    bool reboot_pending; /* reboot: start again once it powered off */
    bool removed;        /* out of the registry; freed with its last reference */
    unsigned refs;       /* the registry's, and code running for it */

    /* The job in progress (its timer) and those waiting. */
    struct md_job *job, *jobs;
    struct md_deadline *timer;
    struct md_api_stream *console;

    struct md_domain *next;
};

struct md_driver {
    uv_loop_t *loop;
    struct md_driver_config cfg;
    struct md_paths paths;
    struct md_api *api;
    struct md_schema *schema;
    struct md_domain *domains;
    unsigned ndomains;
    int next_id;
    bool change_id;
    uid_t uid;
    gid_t gid;
    uv_signal_t sigchld;
};

/* ---- domain.c: the registry, persistence, events ---- */

struct md_domain *md_domain_new(struct md_driver *drv, const char *name, const uint8_t uuid[16]);
/* Takes the domain out of the registry (lookups no longer find it); the
 * memory goes with the last reference. */
void md_domain_free(struct md_domain *d);
/* Code that may see the domain removed under it holds a reference. */
void md_domain_ref(struct md_domain *d);
void md_domain_unref(struct md_domain *d);
struct md_domain *md_domain_by_name(struct md_driver *drv, const char *name);
struct md_domain *md_domain_by_uuid(struct md_driver *drv, const uint8_t uuid[16]);
/* A name, an id or a UUID, as virsh takes them. */
struct md_domain *md_domain_lookup(struct md_driver *drv, const char *what);
/* The definition a start would use: the persistent one (or the pending). */
const struct md_domain_def *md_domain_next_def(const struct md_domain *d);
/* The definition shown now: live if running (unless inactive asked). */
const struct md_domain_def *md_domain_shown_def(const struct md_domain *d, bool inactive);

int md_domain_save(struct md_domain *d, const struct md_domain_def *def, struct md_err *err);
int md_domain_set_autostart(struct md_domain *d, bool on, struct md_err *err);
int md_domain_remove_files(struct md_domain *d, struct md_err *err);
/* Loads etc/domains/ (a bad file is logged and skipped, never lost). */
void md_domains_load(struct md_driver *drv);

void md_domain_set_state(struct md_domain *d, enum md_state s, const char *reason);
/* {"event": "lifecycle", "domain": {...}, "type", "detail"} to subscribers. */
void md_domain_event(struct md_domain *d, const char *type, const char *detail, json_object *extra);
json_object *md_domain_brief(const struct md_domain *d);

/* Jobs. */
void md_job_push(struct md_domain *d, md_job_fn fn, struct md_api_call *call,
                 const struct md_job *params);
/* Ends the current job: replies (result taken, or the error) and runs the
 * next. With d->removed set, the domain is freed: do not touch it after. */
void md_job_done(struct md_domain *d, json_object *result, enum md_api_code code, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));
/* Starts a timer for the current job; `fn` runs unless the job ends first. */
void md_job_timer(struct md_domain *d, int ms, void (*fn)(struct md_domain *d));
void md_job_timer_stop(struct md_domain *d);

/* ---- run.c: emulators ---- */

/* The start job: launches an emulator for the next definition (or d->live
 * when restarting); it ends when the guest runs (or waits, paused), or
 * when the start failed. */
void md_run_job_start(struct md_domain *d, struct md_job *job);
/* SIGTERM, then SIGKILL after the grace time unless graceful. */
void md_run_kill(struct md_domain *d, bool graceful);
/* After a daemon restart: adopt the emulator in d->pid. */
int md_run_reattach(struct md_domain *d, struct md_err *err);
/* The last lines of the domain's log, for crash reports. */
void md_run_log_tail(const struct md_domain *d, char *buf, size_t len);
/* Sends a QMP command for the current job; the job ends with its answer. */
void md_run_qmp_job(struct md_domain *d, const char *command, enum md_state ok_state,
                    const char *ok_reason);

/* ---- status.c: what survives a daemon restart ---- */

int md_status_write(struct md_domain *d, struct md_err *err);
void md_status_remove(struct md_domain *d);
/* Reads run/domains/ and reattaches (or cleans up after) each emulator. */
void md_status_restore(struct md_driver *drv);

/* ---- methods.c ---- */

extern const struct md_api_method md_methods[];

#endif
