/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "fake_machine.h"

#define FAKE_MAX_DEVICES 16

struct em_machine {
    struct em_config cfg;
    struct em_memmap mm;
    struct em_timeline *tl;
    struct kc_logger log;
    struct kc_bus *pio, *mmio;
    uv_loop_t loop;
    struct {
        const char *name;
        void *state;
        const struct em_device_ops *ops;
    } dev[FAKE_MAX_DEVICES];
    unsigned nr_dev;
    bool finished;
    int irq_level[FAKE_MAX_GSI];
    unsigned irq_calls[FAKE_MAX_GSI];
    unsigned requests[EM_REQ_ERROR + 1];
};

static void quiet(void *opaque, enum kc_log_level level, const char *msg)
{
    (void)opaque;
    (void)level;
    (void)msg;
}

struct em_machine *fake_machine_create(uint64_t ram_size, unsigned ncpus, struct log_capture *log)
{
    struct em_machine *m = calloc(1, sizeof(*m));

    ck_assert_ptr_nonnull(m);
    m->cfg.ram_size = ram_size;
    m->cfg.smp = ncpus;
    em_memmap_init(&m->mm, ram_size);
    m->tl = em_timeline_create();
    m->log = log ? log->logger : (struct kc_logger){ quiet, NULL, KC_LOG_DEBUG };
    m->pio = kc_bus_create(KC_BUS_PIO, &m->log);
    m->mmio = kc_bus_create(KC_BUS_MMIO, &m->log);
    ck_assert(m->tl && m->pio && m->mmio);
    ck_assert_int_eq(uv_loop_init(&m->loop), 0);
    return m;
}

void fake_machine_finish(struct em_machine *m)
{
    if (m->finished)
        return;
    m->finished = true;
    for (unsigned i = m->nr_dev; i-- > 0;)
        if (m->dev[i].ops && m->dev[i].ops->destroy)
            m->dev[i].ops->destroy(m->dev[i].state);
    /* As the machine does: closed handles get their callbacks. */
    uv_run(&m->loop, UV_RUN_DEFAULT);
}

void fake_machine_free(struct em_machine *m)
{
    if (!m)
        return;
    fake_machine_finish(m);
    ck_assert_int_eq(uv_loop_close(&m->loop), 0);
    kc_bus_destroy(m->pio);
    kc_bus_destroy(m->mmio);
    em_timeline_destroy(m->tl);
    free(m);
}

void fake_machine_reset(struct em_machine *m)
{
    for (unsigned i = 0; i < m->nr_dev; i++)
        if (m->dev[i].ops && m->dev[i].ops->reset)
            m->dev[i].ops->reset(m->dev[i].state);
}

struct kc_bus *fake_pio(struct em_machine *m)
{
    return m->pio;
}

struct kc_bus *fake_mmio(struct em_machine *m)
{
    return m->mmio;
}

uint64_t fake_in(struct em_machine *m, uint16_t port, unsigned size)
{
    uint64_t v = 0;
    bool stop;

    ck_assert_msg(kc_bus_read(m->pio, port, size, &v, &stop), "port 0x%x (%u bytes) unclaimed",
                  port, size);
    return v;
}

void fake_out(struct em_machine *m, uint16_t port, uint64_t value, unsigned size)
{
    bool stop;

    ck_assert_msg(kc_bus_write(m->pio, port, value, size, &stop), "port 0x%x (%u bytes) unclaimed",
                  port, size);
}

int fake_irq_level(struct em_machine *m, unsigned gsi)
{
    ck_assert_uint_lt(gsi, FAKE_MAX_GSI);
    return m->irq_level[gsi];
}

unsigned fake_irq_calls(struct em_machine *m, unsigned gsi)
{
    ck_assert_uint_lt(gsi, FAKE_MAX_GSI);
    return m->irq_calls[gsi];
}

unsigned fake_requests(struct em_machine *m, enum em_request req)
{
    return m->requests[req];
}

unsigned fake_timeline_count(struct em_machine *m, const char *needle)
{
    struct em_timeline_event ev;
    unsigned n = 0;

    for (unsigned i = 0; em_timeline_get(m->tl, i, &ev); i++)
        if (strstr(ev.label, needle))
            n++;
    return n;
}

/* ---- machine.h, as devices see it ---- */

struct em_config *fake_machine_config(struct em_machine *m)
{
    return &m->cfg;
}

const struct em_config *em_machine_config(const struct em_machine *m)
{
    return &m->cfg;
}

const struct em_memmap *em_machine_memmap(const struct em_machine *m)
{
    return &m->mm;
}

struct kc_vm *em_machine_vm(const struct em_machine *m)
{
    (void)m;
    return NULL;
}

struct kc_mem *em_machine_mem(const struct em_machine *m)
{
    (void)m;
    return NULL;
}

struct em_timeline *em_machine_timeline(const struct em_machine *m)
{
    return m->tl;
}

const struct kc_logger *em_machine_logger(const struct em_machine *m)
{
    return &m->log;
}

uv_loop_t *em_machine_loop(struct em_machine *m)
{
    return &m->loop;
}

unsigned em_machine_ncpus(const struct em_machine *m)
{
    return m->cfg.smp;
}

uint64_t em_machine_rsdp(const struct em_machine *m)
{
    (void)m;
    return 0;
}

int em_machine_irq(struct em_machine *m, unsigned gsi, int level)
{
    ck_assert_uint_lt(gsi, FAKE_MAX_GSI);
    m->irq_level[gsi] = level;
    m->irq_calls[gsi]++;
    return 0;
}

void em_machine_request(struct em_machine *m, enum em_request req, int status)
{
    (void)status;
    m->requests[req]++;
}

int em_machine_pio(struct em_machine *m, uint16_t port, uint16_t len, const struct kc_io_ops *ops,
                   void *opaque, const char *name)
{
    return kc_bus_register(m->pio, port, len, ops, opaque, name);
}

int em_machine_mmio(struct em_machine *m, uint64_t base, uint64_t len, const struct kc_io_ops *ops,
                    void *opaque, const char *name)
{
    return kc_bus_register(m->mmio, base, len, ops, opaque, name);
}

int em_machine_add_device(struct em_machine *m, const char *name, void *state,
                          const struct em_device_ops *ops)
{
    ck_assert_uint_lt(m->nr_dev, FAKE_MAX_DEVICES);
    m->dev[m->nr_dev].name = name;
    m->dev[m->nr_dev].state = state;
    m->dev[m->nr_dev].ops = ops;
    m->nr_dev++;
    return 0;
}

void *em_machine_device(const struct em_machine *m, const char *name)
{
    for (unsigned i = 0; i < m->nr_dev; i++)
        if (!strcmp(m->dev[i].name, name))
            return m->dev[i].state;
    return NULL;
}
