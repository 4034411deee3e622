/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * COM1: the 16550A register model (uart_core.c) at ports 0x3f8-0x3ff on
 * GSI 4, connected to the --serial chardev.
 *
 * Guest accesses run on vCPU threads and the chardev's input on the main
 * thread's loop; a mutex serialises them. The loop thread never waits for
 * that mutex, since a vCPU may hold it while a blocking console write
 * waits: when the mutex is busy, input is refused and retried once the
 * holder lets go (rx_retry).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "chardev/chardev.h"
#include "dev/uart.h"
#include "devices.h"

struct uart {
    struct em_machine *m;
    pthread_mutex_t lock;
    struct em_uart_core core;
    struct em_chardev *chr;
    bool sent_first_byte;
    atomic_bool rx_retry; /* the loop found the mutex busy */
};

/* ---- the core's hooks, called with the mutex held ---- */

static void uart_tx(void *opaque, uint8_t byte)
{
    struct uart *u = opaque;

    if (!u->sent_first_byte) {
        u->sent_first_byte = true;
        em_timeline_mark_once(em_machine_timeline(u->m), "first serial byte");
    }
    em_chardev_write(u->chr, &byte, 1);
}

static void uart_irq(void *opaque, int level)
{
    struct uart *u = opaque;

    em_machine_irq(u->m, EM_COM1_GSI, level);
}

static void uart_rx_ready(void *opaque)
{
    struct uart *u = opaque;

    em_chardev_input_ready(u->chr);
}

static const struct em_uart_hooks uart_hooks = {
    .tx = uart_tx,
    .irq = uart_irq,
    .rx_ready = uart_rx_ready,
};

static void uart_unlock(struct uart *u)
{
    pthread_mutex_unlock(&u->lock);
    if (atomic_exchange(&u->rx_retry, false))
        em_chardev_input_ready(u->chr);
}

/* ---- guest accesses ---- */

static uint64_t uart_read(void *opaque, uint64_t offset, unsigned size)
{
    struct uart *u = opaque;
    uint64_t v;

    pthread_mutex_lock(&u->lock);
    v = em_uart_io_read(&u->core, offset, size);
    uart_unlock(u);
    return v;
}

static void uart_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct uart *u = opaque;

    pthread_mutex_lock(&u->lock);
    em_uart_io_write(&u->core, offset, value, size);
    uart_unlock(u);
}

static const struct kc_io_ops uart_ops = {
    .read = uart_read,
    .write = uart_write,
};

/* ---- the chardev's side, on the loop thread ---- */

static size_t uart_receive(void *opaque, const uint8_t *buf, size_t n)
{
    struct uart *u = opaque;
    size_t taken;

    if (pthread_mutex_trylock(&u->lock) != 0) {
        /* Ask the holder to call back, then look again: either this
         * trylock succeeds or the (new) holder sees the flag. */
        atomic_store(&u->rx_retry, true);
        if (pthread_mutex_trylock(&u->lock) != 0)
            return 0;
        atomic_store(&u->rx_retry, false);
    }
    taken = em_uart_core_receive(&u->core, buf, n);
    pthread_mutex_unlock(&u->lock);
    return taken;
}

static void uart_quit(void *opaque)
{
    struct uart *u = opaque;

    em_timeline_mark(em_machine_timeline(u->m), "terminated by Ctrl-A x");
    em_machine_request(u->m, EM_REQ_POWEROFF, EM_EXIT_OK);
}

static const struct em_chardev_frontend uart_frontend = {
    .receive = uart_receive,
    .quit = uart_quit,
};

/* ---- the device ---- */

static void uart_reset(void *state)
{
    struct uart *u = state;

    pthread_mutex_lock(&u->lock);
    em_uart_core_reset(&u->core);
    uart_unlock(u);
}

static void uart_destroy(void *state)
{
    struct uart *u = state;

    /* Restores the terminal, whatever ended the machine. */
    em_chardev_close(u->chr);
    pthread_mutex_destroy(&u->lock);
    free(u);
}

static const struct em_device_ops uart_dev = {
    .reset = uart_reset,
    .destroy = uart_destroy,
};

int em_uart_create(struct em_machine *m)
{
    struct em_chardev_config cfg;
    struct uart *u = calloc(1, sizeof(*u));
    int ret;

    if (!u) {
        kc_log(em_machine_logger(m), KC_LOG_ERROR, "com1: out of memory");
        return -ENOMEM;
    }
    u->m = m;
    pthread_mutex_init(&u->lock, NULL);
    atomic_init(&u->rx_retry, false);
    em_uart_core_init(&u->core, &uart_hooks, u);

    em_chardev_config_init(&cfg);
    cfg.spec = &em_machine_config(m)->serial;
    cfg.loop = em_machine_loop(m);
    cfg.log = em_machine_logger(m);
    if (cfg.spec->kind != EM_CHARDEV_NONE) {
        u->chr = em_chardev_open(&cfg);
        if (!u->chr) {
            pthread_mutex_destroy(&u->lock);
            free(u);
            return -EIO;
        }
    }
    ret = em_machine_add_device(m, "com1", u, &uart_dev);
    if (ret < 0) {
        em_chardev_close(u->chr);
        pthread_mutex_destroy(&u->lock);
        free(u);
        return ret;
    }
    /* From here on the machine destroys the device if anything fails. */
    ret = em_machine_pio(m, EM_COM1_PORT, EM_UART_NR_PORTS, &uart_ops, u, "com1");
    if (ret < 0)
        return ret;
    if (u->chr)
        em_chardev_attach(u->chr, &uart_frontend, u);
    return u->chr ? em_machine_add_chardev(m, "serial0", u->chr) : 0;
}
