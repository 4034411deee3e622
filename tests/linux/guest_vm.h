/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The project's Linux test guest (tests/linux/guest/) under the real
 * kvmemu, for the end-to-end tests: the kit's files, a kvmemu child whose
 * serial port is a pair of pipes (the test reads the console and types
 * into it), its stderr (errors and the --trace-boot timeline), and its
 * exit, never waited for without a deadline; optionally its QMP monitor,
 * through tests/qmp/qmp_client.h. Everything the guest and kvmemu printed
 * is kept whole, and written to LOG_DIR as it comes.
 */
#ifndef GUEST_VM_H
#define GUEST_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "qmp_client.h"
#include "testutil.h"

/* The kit as tests/linux/guest/build left it. */
struct guest_kit {
    char vmlinux[512];
    char initrd[512];
    char cmdline[1024]; /* what boots it on this host, without test= */
    char config[512];   /* the kernel's full .config */
};

/* Builds the kit (cached: about a second when nothing changed; minutes the
 * first time, with progress on stderr) and fills `kit`. Fails the test,
 * with the build's own words, if it cannot. */
void guest_kit_get(struct guest_kit *kit);

struct guest_text {
    char *buf; /* NUL-terminated; CRs and NULs dropped */
    size_t len, cap;
    FILE *log; /* LOG_DIR/TAG-serial.log or TAG-stderr.log, as it comes */
};

struct guest_vm {
    char tag[32];
    pid_t pid;
    int in;     /* the serial port's input: what the test types */
    int out;    /* the serial port's output, -1 once closed */
    int err;    /* kvmemu's stderr, -1 once closed */
    int status; /* exit status, 128 + signal, or -1 while running */
    double started_ms, ended_ms;
    struct guest_text serial, errlog;
    struct qc qmp;      /* the monitor (guest_vm_start_qmp); fd -1 without */
    char qmp_path[128]; /* its socket, "" without */
};

double guest_now_ms(void);

/*
 * Starts kvmemu: --kernel, --initrd and --append from the kit (the kit's
 * command line, then `append_extra`), --serial stdio, --trace-boot, and
 * `args` (NULL-terminated: --smp, devices...).
 */
void guest_vm_start(struct guest_vm *vm, const char *tag, const struct guest_kit *kit,
                    const char *append_extra, const char *const *args);

/*
 * guest_vm_start, with kvmemu's QMP monitor too (--monitor unix:PATH, the
 * socket in a directory of its own under /tmp): vm->qmp is connected to it
 * and past negotiation, or the test fails. Send commands with qc_cmd() or
 * qc_execute() on &vm->qmp; its events queue there until asked for.
 */
void guest_vm_start_qmp(struct guest_vm *vm, const char *tag, const struct guest_kit *kit,
                        const char *append_extra, const char *const *args);

/* Waits for the monitor's event `name` (queued or new), collecting the
 * console meanwhile; NULL after timeout_ms, or as soon as kvmemu has
 * closed the monitor without sending it. The caller frees the event. */
json_object *guest_vm_qmp_event(struct guest_vm *vm, const char *name, int timeout_ms);

/* Collects output for up to ms milliseconds (less if kvmemu exits). */
void guest_vm_pump(struct guest_vm *vm, int ms);

/* Waits until `needle` is on the serial port at or after offset `from`;
 * returns the offset just past it, or 0 after timeout_ms or an exit. */
size_t guest_vm_wait(struct guest_vm *vm, const char *needle, size_t from, int timeout_ms);

/* The serial line holding the first `needle` at or after `from`, copied
 * into out (without the newline); false if there is none. */
bool guest_vm_line(const struct guest_vm *vm, const char *needle, size_t from, char *out,
                   size_t cap);

/* Types one line into the serial port (a newline is added). */
void guest_vm_type(struct guest_vm *vm, const char *line);

/* Waits for kvmemu to exit; after timeout_ms it is killed and the test
 * fails, showing the console's last lines. Returns the exit status. */
int guest_vm_wait_exit(struct guest_vm *vm, int timeout_ms);

/* Kills kvmemu if it still runs, closes LOG_DIR/TAG-serial.log and
 * TAG-stderr.log (written as the output came), says where they are, closes
 * the monitor and removes its socket, and frees everything. */
void guest_vm_end(struct guest_vm *vm);

/* The milliseconds of the timeline event starting with `label` in kvmemu's
 * --trace-boot output (after it exited); the n-th one (0 = first); < 0 if
 * absent. */
double guest_vm_event_ms(const struct guest_vm *vm, const char *label, unsigned n);

/* A TAP comment line (meson's log shows it). */
void guest_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
