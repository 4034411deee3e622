/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The worker-pool engine: `threads` workers take operations from a FIFO
 * and make the blocking system calls; finished operations go to a done
 * list, and the first one that finds it empty writes the eventfd. The
 * alternative to io_uring (see blk.c for how they compare here).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "virtio/blk_engine.h"

#define MAX_THREADS 64
#define STACK_SIZE  (256u << 10)

struct fifo {
    struct em_blk_io *head, *tail;
};

struct pool {
    struct em_blk_engine e;
    int fd, efd;
    struct fifo staged; /* queued, not committed: only the device's thread */
    pthread_mutex_t lock;
    pthread_cond_t work;     /* workers wait for todo */
    pthread_cond_t finished; /* wait() waits for done */
    struct fifo todo, done;
    bool stopping;
    unsigned nthreads;
    pthread_t threads[MAX_THREADS];
};

static void fifo_put(struct fifo *f, struct em_blk_io *io)
{
    io->next = NULL;
    if (f->tail)
        f->tail->next = io;
    else
        f->head = io;
    f->tail = io;
}

static struct em_blk_io *fifo_get(struct fifo *f)
{
    struct em_blk_io *io = f->head;

    if (io) {
        f->head = io->next;
        if (!f->head)
            f->tail = NULL;
    }
    return io;
}

static void perform(struct pool *p, struct em_blk_io *io)
{
    ssize_t ret = 0;

    switch (io->op) {
    case EM_BLK_READ:
        ret = preadv(p->fd, io->iov, (int)io->niov, (off_t)io->offset);
        break;
    case EM_BLK_WRITE:
        ret = pwritev2(p->fd, io->iov, (int)io->niov, (off_t)io->offset, io->flags);
        break;
    case EM_BLK_FLUSH:
        ret = fdatasync(p->fd);
        break;
    case EM_BLK_FALLOCATE:
        ret = fallocate(p->fd, io->flags, (off_t)io->offset, (off_t)io->len);
        break;
    }
    io->res = ret < 0 ? -errno : ret;
}

static void *worker(void *arg)
{
    struct pool *p = arg;

    pthread_mutex_lock(&p->lock);
    for (;;) {
        struct em_blk_io *io;
        bool was_empty;

        while (!p->todo.head && !p->stopping)
            pthread_cond_wait(&p->work, &p->lock);
        if (p->stopping)
            break;
        io = fifo_get(&p->todo);
        pthread_mutex_unlock(&p->lock);
        perform(p, io);
        pthread_mutex_lock(&p->lock);
        was_empty = !p->done.head;
        fifo_put(&p->done, io);
        if (was_empty) {
            uint64_t one = 1;
            /* Cannot fail short of a counter overflow, which a reap clears. */
            ssize_t r = write(p->efd, &one, sizeof(one));

            (void)r;
            pthread_cond_broadcast(&p->finished);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static struct pool *to_pool(struct em_blk_engine *e)
{
    return (struct pool *)e;
}

static int pool_event_fd(struct em_blk_engine *e)
{
    return to_pool(e)->efd;
}

static void pool_queue(struct em_blk_engine *e, struct em_blk_io *io)
{
    fifo_put(&to_pool(e)->staged, io);
}

static void pool_commit(struct em_blk_engine *e)
{
    struct pool *p = to_pool(e);
    struct em_blk_io *io;
    unsigned n = 0;

    if (!p->staged.head)
        return;
    pthread_mutex_lock(&p->lock);
    while ((io = fifo_get(&p->staged))) {
        fifo_put(&p->todo, io);
        n++;
    }
    /* One wakeup per operation, for at most as many workers as there are. */
    for (unsigned i = 0; i < n && i < p->nthreads; i++)
        pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
}

static unsigned pool_reap(struct em_blk_engine *e, void (*done)(void *arg, struct em_blk_io *io),
                          void *arg)
{
    struct pool *p = to_pool(e);
    struct em_blk_io *io, *list;
    unsigned n = 0;

    pthread_mutex_lock(&p->lock);
    list = p->done.head;
    p->done.head = p->done.tail = NULL;
    pthread_mutex_unlock(&p->lock);
    while ((io = list)) {
        list = io->next;
        done(arg, io);
        n++;
    }
    return n;
}

static void pool_wait(struct em_blk_engine *e)
{
    struct pool *p = to_pool(e);

    pool_commit(e);
    pthread_mutex_lock(&p->lock);
    while (!p->done.head)
        pthread_cond_wait(&p->finished, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

static void pool_destroy(struct em_blk_engine *e)
{
    struct pool *p = to_pool(e);

    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->finished);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->lock);
    close(p->efd);
    free(p);
}

static const struct em_blk_engine_ops pool_ops = {
    .name = "pool",
    .event_fd = pool_event_fd,
    .queue = pool_queue,
    .commit = pool_commit,
    .reap = pool_reap,
    .wait = pool_wait,
    .destroy = pool_destroy,
};

struct em_blk_engine *em_blk_pool_create(int fd, unsigned threads, const char *name,
                                         const struct kc_logger *log)
{
    struct pool *p = calloc(1, sizeof(*p));
    pthread_attr_t attr;
    sigset_t all, old;
    int ret = 0;

    if (!p) {
        kc_log(log, KC_LOG_ERROR, "virtio-blk %s: out of memory", name);
        return NULL;
    }
    p->e.ops = &pool_ops;
    p->fd = fd;
    p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (p->efd < 0) {
        kc_log(log, KC_LOG_ERROR, "virtio-blk %s: eventfd: %s", name, strerror(errno));
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->finished, NULL);
    if (threads == 0)
        threads = 1;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, STACK_SIZE);
    /* Signals are the main thread's business. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    while (p->nthreads < threads) {
        ret = pthread_create(&p->threads[p->nthreads], &attr, worker, p);
        if (ret)
            break;
        p->nthreads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (ret) {
        kc_log(log, KC_LOG_ERROR, "virtio-blk %s: cannot start I/O worker %u of %u: %s", name,
               p->nthreads + 1, threads, strerror(ret));
        pool_destroy(&p->e);
        return NULL;
    }
    return &p->e;
}
