/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-console (virtio 1.2, 5.3) with one port (hvc0 in Linux): queue 0
 * carries input to the guest, queue 1 its output, and a chardev (stdio,
 * file, unix socket, pty, none: the UART's backends) is the other end.
 * MULTIPORT and SIZE are not offered; EMERG_WRITE is, so a driver can
 * write a byte through the configuration space before its queues exist.
 *
 * Threads. Output goes from the I/O thread to em_chardev_write(), which
 * never blocks on a socket or a pty (what does not fit is dropped and
 * counted, as for the UART). Input arrives on the main thread's loop; it
 * is put in a small buffer under a lock of its own, and the I/O thread is
 * woken by a kick of the receive queue to move it into the driver's
 * buffers. The loop thread never waits for the device's lock, which the
 * I/O thread may hold through a slow terminal write. While the buffer is
 * full (the driver posts no receive buffers), the chardev is told to hold
 * input back, and em_chardev_input_ready() lets it flow again: no input is
 * lost. A receive chain with nothing writable is given back empty; bytes
 * in device-writable parts of a transmit chain are ignored.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>

#include "chardev/chardev.h"
#include "virtio/devices.h"

#define RXQ        0
#define TXQ        1
#define QUEUE_SIZE 128
#define IN_SIZE    4096 /* input taken from the chardev, not yet in a buffer */
#define BURST      256  /* chains per turn */

struct vconsole {
    struct em_virtio_dev *vd;
    struct em_chardev *chr;

    /* Input, between the main loop and the I/O thread. */
    pthread_mutex_t in_lock;
    uint8_t in[IN_SIZE];
    size_t in_head, in_len;
    bool in_refused; /* the chardev waits for em_chardev_input_ready() */
};

/* ---- input: main loop side ---- */

static size_t con_receive(void *opaque, const uint8_t *buf, size_t n)
{
    struct vconsole *c = opaque;
    size_t taken;

    pthread_mutex_lock(&c->in_lock);
    taken = IN_SIZE - c->in_len < n ? IN_SIZE - c->in_len : n;
    for (size_t i = 0; i < taken; i++)
        c->in[(c->in_head + c->in_len + i) % IN_SIZE] = buf[i];
    c->in_len += taken;
    if (taken < n)
        c->in_refused = true;
    pthread_mutex_unlock(&c->in_lock);
    /* The I/O thread takes it from here; ignored until DRIVER_OK, which
     * kicks every queue anyway. */
    if (taken)
        em_virtio_kick(c->vd, RXQ);
    return taken;
}

static void con_quit(void *opaque)
{
    (void)opaque;
    /* Ctrl-A x on a terminal. The device has no handle on the machine;
     * SIGTERM is kvmemu's orderly way out, handled on its main loop. */
    kill(getpid(), SIGTERM);
}

static const struct em_chardev_frontend con_frontend = {
    .receive = con_receive,
    .quit = con_quit,
};

/* ---- input: I/O thread side ---- */

/* Moves as much buffered input as e's writable buffers hold; how much. */
static size_t take_input(struct vconsole *c, const struct em_vq_elem *e)
{
    size_t n, first;

    pthread_mutex_lock(&c->in_lock);
    n = c->in_len < e->in_bytes ? c->in_len : (size_t)e->in_bytes;
    first = IN_SIZE - c->in_head < n ? IN_SIZE - c->in_head : n;
    em_vq_write(e, 0, c->in + c->in_head, first);
    em_vq_write(e, first, c->in, n - first);
    c->in_head = (c->in_head + n) % IN_SIZE;
    c->in_len -= n;
    pthread_mutex_unlock(&c->in_lock);
    return n;
}

static bool input_pending(struct vconsole *c)
{
    bool pending;

    pthread_mutex_lock(&c->in_lock);
    pending = c->in_len > 0;
    pthread_mutex_unlock(&c->in_lock);
    return pending;
}

static void rx_run(struct vconsole *c)
{
    struct em_vq *vq = em_virtio_vq(c->vd, RXQ);
    bool pushed = false, ready;
    unsigned budget = BURST;

    if (!vq)
        return;
    while (input_pending(c)) {
        struct em_vq_elem *e;
        int ret;

        if (!budget--) {
            em_virtio_kick(c->vd, RXQ); /* more, after other events */
            break;
        }
        ret = em_vq_pop(vq, &e);
        if (ret < 0) {
            em_virtio_queue_broken(c->vd, RXQ);
            break;
        }
        if (ret == 0) {
            /* Wait for the driver's next buffers (and their kick). */
            if (em_vq_enable_notify(vq))
                continue;
            break;
        }
        em_vq_push(vq, e, (uint32_t)take_input(c, e));
        free(e);
        pushed = true;
    }
    if (pushed)
        em_virtio_notify(c->vd, RXQ);
    pthread_mutex_lock(&c->in_lock);
    ready = c->in_refused && c->in_len < IN_SIZE;
    if (ready)
        c->in_refused = false;
    pthread_mutex_unlock(&c->in_lock);
    if (ready)
        em_chardev_input_ready(c->chr);
}

/* ---- output ---- */

static void tx_run(struct vconsole *c)
{
    struct em_vq *vq = em_virtio_vq(c->vd, TXQ);
    unsigned budget = BURST;
    bool pushed = false;

    if (!vq)
        return;
    for (;;) {
        struct em_vq_elem *e;
        int ret = 0;

        em_vq_disable_notify(vq);
        while (budget && (ret = em_vq_pop(vq, &e)) > 0) {
            for (unsigned i = 0; i < e->n_out; i++)
                em_chardev_write(c->chr, e->seg[i].host, e->seg[i].len);
            em_vq_push(vq, e, 0);
            free(e);
            pushed = true;
            budget--;
        }
        if (budget && ret < 0) {
            em_virtio_queue_broken(c->vd, TXQ);
            break;
        }
        if (!budget) {
            em_virtio_kick(c->vd, TXQ); /* more, after other events */
            break;
        }
        if (!em_vq_enable_notify(vq))
            break;
    }
    if (pushed)
        em_virtio_notify(c->vd, TXQ);
}

/* ---- the device ---- */

static void con_notify(void *dev, unsigned q)
{
    struct vconsole *c = dev;

    if (q == RXQ)
        rx_run(c);
    else if (q == TXQ)
        tx_run(c);
}

static uint64_t con_features(void *dev)
{
    (void)dev;
    return 1ull << VIRTIO_CONSOLE_F_EMERG_WRITE;
}

static void con_config_read(void *dev, uint32_t offset, void *buf, uint32_t len)
{
    struct virtio_console_config cfg;

    (void)dev;
    /* cols, rows and max_nr_ports mean nothing without SIZE and
     * MULTIPORT; emerg_wr reads as 0. */
    memset(&cfg, 0, sizeof(cfg));
    memcpy(buf, (uint8_t *)&cfg + offset, len);
}

static void con_config_write(void *dev, uint32_t offset, const void *buf, uint32_t len)
{
    struct vconsole *c = dev;
    const uint32_t at = offsetof(struct virtio_console_config, emerg_wr);

    /* An emergency write: the byte at emerg_wr (its low byte), whatever
     * the access size. Other fields are read-only. */
    if (offset <= at && at < offset + len)
        em_chardev_write(c->chr, (const uint8_t *)buf + (at - offset), 1);
}

static void con_reset(void *dev)
{
    /* Nothing is held between kicks; buffered input stays for the next
     * driver. */
    (void)dev;
}

static void con_destroy(void *dev)
{
    struct vconsole *c = dev;

    em_chardev_close(c->chr);
    pthread_mutex_destroy(&c->in_lock);
    free(c);
}

static const struct em_virtio_device_ops vconsole_ops = {
    .name = "virtio-console",
    .device_id = VIRTIO_ID_CONSOLE,
    .num_queues = 2,
    .queue_max_size = QUEUE_SIZE,
    .config_size = sizeof(struct virtio_console_config),
    .features = con_features,
    .config_read = con_config_read,
    .config_write = con_config_write,
    .queue_notify = con_notify,
    .reset = con_reset,
    .destroy = con_destroy,
};

struct em_chardev *em_vconsole_chardev(struct em_virtio_dev *vd)
{
    return ((struct vconsole *)em_virtio_device_state(vd))->chr;
}

struct em_virtio_dev *em_vconsole_create(const struct em_vdev_env *env,
                                         const struct em_chardev_spec *backend)
{
    struct em_chardev_config cfg;
    struct vconsole *c = calloc(1, sizeof(*c));

    if (!c) {
        kc_log(env->log, KC_LOG_ERROR, "virtio-console: out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->in_lock, NULL);
    em_chardev_config_init(&cfg);
    cfg.spec = backend;
    cfg.loop = env->main_loop;
    cfg.log = env->log;
    cfg.what = "console-virtio";
    c->chr = em_chardev_open(&cfg);
    if (!c->chr)
        goto fail;
    c->vd = em_virtio_create(&vconsole_ops, c, env->mem, env->log);
    if (!c->vd) {
        em_chardev_close(c->chr);
        goto fail;
    }
    /* Input may flow now: it waits in the buffer until DRIVER_OK. */
    em_chardev_attach(c->chr, &con_frontend, c);
    return c->vd;

fail:
    pthread_mutex_destroy(&c->in_lock);
    free(c);
    return NULL;
}
