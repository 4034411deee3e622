/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeline.h"

#define ONCE_MAX 32

struct em_timeline {
    struct timespec t0;
    pthread_mutex_t lock;
    unsigned n;
    unsigned dropped;
    struct em_timeline_event ev[EM_TIMELINE_MAX];
    unsigned nr_once;
    char once[ONCE_MAX][EM_TIMELINE_LABEL];
};

struct em_timeline *em_timeline_create(void)
{
    struct em_timeline *tl = calloc(1, sizeof(*tl));

    if (!tl)
        return NULL;
    clock_gettime(CLOCK_MONOTONIC, &tl->t0);
    pthread_mutex_init(&tl->lock, NULL);
    return tl;
}

void em_timeline_destroy(struct em_timeline *tl)
{
    if (!tl)
        return;
    pthread_mutex_destroy(&tl->lock);
    free(tl);
}

double em_timeline_now(const struct em_timeline *tl)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - tl->t0.tv_sec) * 1e3 +
           (double)(now.tv_nsec - tl->t0.tv_nsec) / 1e6;
}

static void add_locked(struct em_timeline *tl, double ms, const char *label)
{
    if (tl->n == EM_TIMELINE_MAX) {
        tl->dropped++;
        return;
    }
    tl->ev[tl->n].ms = ms;
    snprintf(tl->ev[tl->n].label, EM_TIMELINE_LABEL, "%s", label);
    tl->n++;
}

void em_timeline_mark(struct em_timeline *tl, const char *fmt, ...)
{
    char label[EM_TIMELINE_LABEL];
    double ms = em_timeline_now(tl);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(label, sizeof(label), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&tl->lock);
    add_locked(tl, ms, label);
    pthread_mutex_unlock(&tl->lock);
}

bool em_timeline_mark_once(struct em_timeline *tl, const char *label)
{
    double ms = em_timeline_now(tl);
    bool first = true;

    pthread_mutex_lock(&tl->lock);
    for (unsigned i = 0; i < tl->nr_once && first; i++)
        first = strncmp(tl->once[i], label, EM_TIMELINE_LABEL) != 0;
    if (first && tl->nr_once < ONCE_MAX) {
        snprintf(tl->once[tl->nr_once++], EM_TIMELINE_LABEL, "%s", label);
        add_locked(tl, ms, label);
    }
    pthread_mutex_unlock(&tl->lock);
    return first;
}

unsigned em_timeline_count(struct em_timeline *tl)
{
    unsigned n;

    pthread_mutex_lock(&tl->lock);
    n = tl->n;
    pthread_mutex_unlock(&tl->lock);
    return n;
}

bool em_timeline_get(struct em_timeline *tl, unsigned i, struct em_timeline_event *out)
{
    bool ok;

    pthread_mutex_lock(&tl->lock);
    ok = i < tl->n;
    if (ok)
        *out = tl->ev[i];
    pthread_mutex_unlock(&tl->lock);
    return ok;
}

void em_timeline_print(struct em_timeline *tl, FILE *f)
{
    pthread_mutex_lock(&tl->lock);
    fprintf(f, "boot timeline (ms since start):\n");
    for (unsigned i = 0; i < tl->n; i++)
        fprintf(f, "  %10.3f  %s\n", tl->ev[i].ms, tl->ev[i].label);
    if (tl->dropped)
        fprintf(f, "  (%u later events not kept)\n", tl->dropped);
    pthread_mutex_unlock(&tl->lock);
}
