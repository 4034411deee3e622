/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The boot timeline: named events in milliseconds since kvmemu started
 * (main() is entered within a millisecond of exec), printed on exit with
 * --trace-boot and, later, served by the monitor. Thread-safe.
 */
#ifndef EM_TIMELINE_H
#define EM_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define EM_TIMELINE_MAX   512
#define EM_TIMELINE_LABEL 48

struct em_timeline_event {
    double ms;
    char label[EM_TIMELINE_LABEL];
};

struct em_timeline;

struct em_timeline *em_timeline_create(void);
void em_timeline_destroy(struct em_timeline *tl);

/* Records an event; when full, events are counted but not kept. */
void em_timeline_mark(struct em_timeline *tl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Records `label` only the first time it is marked; true if that was now. */
bool em_timeline_mark_once(struct em_timeline *tl, const char *label);

unsigned em_timeline_count(struct em_timeline *tl);
/* Copies event i; false if there is none. */
bool em_timeline_get(struct em_timeline *tl, unsigned i, struct em_timeline_event *out);
/* Milliseconds since the timeline was created. */
double em_timeline_now(const struct em_timeline *tl);

void em_timeline_print(struct em_timeline *tl, FILE *f);

#endif
