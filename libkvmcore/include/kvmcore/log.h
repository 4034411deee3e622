/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where the library reports errors. Every object carries a copy of the
 * logger it was created with; there is no process-wide sink.
 *
 * Conventions for the whole library:
 *  - functions that can fail return 0 (or a non-negative value) on success
 *    and -errno on failure, or NULL for constructors;
 *  - the error is reported once, where it happens, through the logger, with
 *    the failing thing named; callers only propagate the code;
 *  - nothing is printed to stdout and nothing calls exit();
 *  - there is no global mutable state: any number of kc_kvm and kc_vm
 *    objects may live in one process.
 */
#ifndef KVMCORE_LOG_H
#define KVMCORE_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

enum kc_log_level {
    KC_LOG_ERROR,
    KC_LOG_WARN,
    KC_LOG_INFO,
    KC_LOG_DEBUG,
};

/* Receives one complete message, without a trailing newline. */
typedef void (*kc_log_fn)(void *opaque, enum kc_log_level level, const char *msg);

struct kc_logger {
    /* NULL means stderr, each line prefixed "kvmcore: <level>: ". */
    kc_log_fn fn;
    void *opaque;
    /* Messages less severe than this are dropped. */
    enum kc_log_level max_level;
};

/* The default: stderr, errors and warnings. */
#define KC_LOGGER_DEFAULT ((struct kc_logger){ NULL, NULL, KC_LOG_WARN })

void kc_log(const struct kc_logger *log, enum kc_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif
