/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The io_uring engine: one ring per disk, the disk's descriptor registered
 * as fixed file 0, and an eventfd the kernel signals for every completion.
 * (Not IORING_REGISTER_EVENTFD_ASYNC: it stays silent for completions
 * posted by the submitter's task work, which is how O_DIRECT reads
 * complete, so they would wait for an unrelated wakeup.)
 *
 * No IORING_SETUP_SINGLE_ISSUER or *_TASKRUN flags: a reset drains the
 * ring from whichever thread resets the device, while the I/O thread (the
 * submitter, whose task work posts completions) waits for the device's
 * lock; with the default task-work signalling the kernel interrupts that
 * wait to post them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <liburing.h>

#include "virtio/blk_engine.h"

struct uring {
    struct em_blk_engine e;
    struct io_uring ring;
    int efd;
    unsigned queued; /* prepared, not yet submitted */
    const char *name;
    struct kc_logger log;
    bool submit_error_logged;
};

static struct uring *to_uring(struct em_blk_engine *e)
{
    return (struct uring *)e;
}

static int uring_event_fd(struct em_blk_engine *e)
{
    return to_uring(e)->efd;
}

static void uring_commit(struct em_blk_engine *e)
{
    struct uring *u = to_uring(e);

    while (u->queued) {
        int ret = io_uring_submit(&u->ring);

        if (ret >= 0) {
            u->queued -= (unsigned)ret < u->queued ? (unsigned)ret : u->queued;
            if (ret > 0)
                continue;
            return;
        }
        if (ret == -EINTR)
            continue;
        /* -EAGAIN/-EBUSY: the kernel is short of memory or the CQ is
         * backed up; what is left is submitted by the next commit, after
         * completions have been reaped. */
        if (!u->submit_error_logged) {
            kc_log(&u->log, KC_LOG_WARN, "virtio-blk %s: io_uring submit: %s (will retry)", u->name,
                   strerror(-ret));
            u->submit_error_logged = true;
        }
        return;
    }
}

static void uring_queue(struct em_blk_engine *e, struct em_blk_io *io)
{
    struct uring *u = to_uring(e);
    struct io_uring_sqe *sqe;

    while (!(sqe = io_uring_get_sqe(&u->ring))) {
        /* The SQ is full: the device committed less often than it queued. */
        uring_commit(e);
        if (u->queued) /* could not submit: wait for room */
            io_uring_submit_and_wait(&u->ring, 1);
    }
    switch (io->op) {
    case EM_BLK_READ:
        io_uring_prep_readv(sqe, 0, io->iov, io->niov, io->offset);
        break;
    case EM_BLK_WRITE:
        io_uring_prep_writev2(sqe, 0, io->iov, io->niov, io->offset, io->flags);
        break;
    case EM_BLK_FLUSH:
        io_uring_prep_fsync(sqe, 0, IORING_FSYNC_DATASYNC);
        break;
    case EM_BLK_FALLOCATE:
        io_uring_prep_fallocate(sqe, 0, io->flags, (off_t)io->offset, (off_t)io->len);
        break;
    }
    sqe->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data(sqe, io);
    u->queued++;
}

static unsigned uring_reap(struct em_blk_engine *e, void (*done)(void *arg, struct em_blk_io *io),
                           void *arg)
{
    struct uring *u = to_uring(e);
    unsigned total = 0;

    for (;;) {
        struct io_uring_cqe *cqe;
        unsigned head, n = 0;

        io_uring_for_each_cqe(&u->ring, head, cqe)
        {
            struct em_blk_io *io = io_uring_cqe_get_data(cqe);

            io->res = cqe->res;
            n++;
            done(arg, io);
        }
        if (!n)
            return total;
        io_uring_cq_advance(&u->ring, n);
        total += n;
    }
}

static void uring_wait(struct em_blk_engine *e)
{
    struct uring *u = to_uring(e);
    struct io_uring_cqe *cqe;

    uring_commit(e);
    while (io_uring_wait_cqe(&u->ring, &cqe) == -EINTR)
        ;
}

static void uring_destroy(struct em_blk_engine *e)
{
    struct uring *u = to_uring(e);

    io_uring_queue_exit(&u->ring);
    close(u->efd);
    free(u);
}

static const struct em_blk_engine_ops uring_ops = {
    .name = "io_uring",
    .event_fd = uring_event_fd,
    .queue = uring_queue,
    .commit = uring_commit,
    .reap = uring_reap,
    .wait = uring_wait,
    .destroy = uring_destroy,
};

struct em_blk_engine *em_blk_uring_create(int fd, unsigned depth, const char *name,
                                          const struct kc_logger *log)
{
    struct uring *u = calloc(1, sizeof(*u));
    struct io_uring_params p;
    int ret;

    if (!u) {
        kc_log(log, KC_LOG_ERROR, "virtio-blk %s: out of memory", name);
        return NULL;
    }
    u->e.ops = &uring_ops;
    u->name = name;
    u->log = *log;
    u->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (u->efd < 0) {
        kc_log(log, KC_LOG_ERROR, "virtio-blk %s: eventfd: %s", name, strerror(errno));
        free(u);
        return NULL;
    }
    /* The CQ holds twice the SQ, and the device never has more than
     * `depth` operations in flight: completions cannot overflow. */
    memset(&p, 0, sizeof(p));
    ret = io_uring_queue_init_params(depth, &u->ring, &p);
    if (ret < 0) {
        kc_log(log, KC_LOG_ERROR, "virtio-blk %s: io_uring_setup with %u entries: %s", name, depth,
               strerror(-ret));
        goto err_efd;
    }
    ret = io_uring_register_files(&u->ring, &fd, 1);
    if (ret < 0) {
        kc_log(log, KC_LOG_ERROR, "virtio-blk %s: io_uring: registering the disk: %s", name,
               strerror(-ret));
        goto err_ring;
    }
    ret = io_uring_register_eventfd(&u->ring, u->efd);
    if (ret < 0) {
        kc_log(log, KC_LOG_ERROR, "virtio-blk %s: io_uring: registering its eventfd: %s", name,
               strerror(-ret));
        goto err_ring;
    }
    return &u->e;

err_ring:
    io_uring_queue_exit(&u->ring);
err_efd:
    close(u->efd);
    free(u);
    return NULL;
}
