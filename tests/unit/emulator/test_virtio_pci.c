/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio-pci transport, driven through tests/virtio/pci_harness as a
 * guest driver would drive it (configuration space, capability walk, BAR
 * registers), with the toy device of test_virtio_core.c (it upper-cases
 * what it reads into the writable buffers): identity and capabilities,
 * the PCI configuration access window, every common configuration field
 * and wrong widths, MSI-X (per-queue vectors, NO_VECTOR, entry and
 * function masks with pending bits, irqfds and their routes), INTx with
 * ISR read-to-clear, configuration interrupts, reset, doorbells that
 * follow a moved BAR, and hostile register traffic.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_pci.h>

#include "pci/msix.h"
#include "pci_harness.h"
#include "testutil.h"

const bool test_needs_kvm = false;

#define F_TOY   (1ull << 3)
#define TIMEOUT 5000
#define NQ      2

struct toy {
    struct em_virtio_dev *vd;
    uint32_t config;
    unsigned resets;
};

static uint64_t toy_features(void *dev)
{
    (void)dev;
    return F_TOY;
}

static void toy_config_read(void *dev, uint32_t off, void *buf, uint32_t len)
{
    memcpy(buf, (uint8_t *)&((struct toy *)dev)->config + off, len);
}

static void toy_config_write(void *dev, uint32_t off, const void *buf, uint32_t len)
{
    memcpy((uint8_t *)&((struct toy *)dev)->config + off, buf, len);
}

static void toy_notify(void *dev, unsigned q)
{
    struct toy *t = dev;
    struct em_vq *vq = em_virtio_vq(t->vd, q);
    struct em_vq_elem *e;
    bool pushed = false;
    int ret;

    /* Interrupts only for buffers used (the tests count them). */
    while ((ret = em_vq_pop(vq, &e)) > 0) {
        uint8_t buf[256];
        uint64_t n = em_vq_read(e, 0, buf, sizeof(buf));

        pushed = true;
        for (uint64_t i = 0; i < n; i++)
            buf[i] = (uint8_t)toupper(buf[i]);
        em_vq_push(vq, e, (uint32_t)em_vq_write(e, 0, buf, n));
        free(e);
    }
    if (ret < 0)
        em_virtio_queue_broken(t->vd, q);
    if (pushed)
        em_virtio_notify(t->vd, q);
}

static void toy_reset(void *dev)
{
    ((struct toy *)dev)->resets++;
}

/* clang-format off */
#define TOY_OPS(id, cfg) {                                                     \
    .name = "toy", .device_id = (id), .num_queues = NQ, .queue_max_size = 16,  \
    .config_size = (cfg), .features = toy_features,                            \
    .config_read = toy_config_read, .config_write = toy_config_write,          \
    .queue_notify = toy_notify, .reset = toy_reset }
/* clang-format on */

static const struct em_virtio_device_ops toy_ops = TOY_OPS(42, 4);
static const struct em_virtio_device_ops toy_no_config = TOY_OPS(4, 0);
static const struct em_virtio_device_ops toy_as[] = { TOY_OPS(1, 4), TOY_OPS(2, 4), TOY_OPS(3, 4),
                                                      TOY_OPS(4, 4), TOY_OPS(42, 4) };
static const uint32_t class_of[] = { 0x020000, 0x018000, 0x078000, 0x00ff00, 0xff0000 };

static struct log_capture cap;
static struct vph *h;
static struct vph_dev *dev;
static struct toy toy;
static struct vdrv *drv;

static void setup(void)
{
    log_capture_init(&cap);
    h = NULL;
    dev = NULL;
}

static void teardown(void)
{
    vph_destroy(h);
}

static void start_with(bool irqfd, bool ioeventfd, const struct em_virtio_device_ops *ops)
{
    h = vph_create(
        &(struct vph_opts){ .log = &cap.logger, .irqfd = irqfd, .ioeventfd = ioeventfd });
    ck_assert_ptr_nonnull(h);
    memset(&toy, 0, sizeof(toy));
    toy.vd = em_virtio_create(ops, &toy, vph_mem(h), &cap.logger);
    ck_assert_ptr_nonnull(toy.vd);
    dev = vph_plug(h, toy.vd, "toy");
    ck_assert_msg(dev != NULL, "%s", cap.text);
    drv = vph_vdrv(dev);
}

static void start(void)
{
    start_with(false, false, &toy_ops);
}

static const struct vph_caps *caps(void)
{
    return vph_caps(dev);
}

static uint64_t crd(unsigned off, unsigned size)
{
    return vph_read(dev, &caps()->common, off, size);
}

static void cwr(unsigned off, uint64_t v, unsigned size)
{
    vph_write(dev, &caps()->common, off, v, size);
}

static uint32_t table_rd(unsigned v, unsigned field)
{
    return (uint32_t)vph_bar_read(dev, caps()->table_bar, caps()->table_off + 16ull * v + field, 4);
}

static void table_wr(unsigned v, unsigned field, uint32_t value)
{
    vph_bar_write(dev, caps()->table_bar, caps()->table_off + 16ull * v + field, value, 4);
}

static uint32_t pba(void)
{
    return (uint32_t)vph_bar_read(dev, caps()->pba_bar, caps()->pba_off, 4);
}

static void msix_ctrl(uint16_t set, uint16_t clear)
{
    unsigned at = caps()->msix_cap + 2;
    uint16_t ctrl = (uint16_t)vph_cfg_read(dev, at, 2);

    vph_cfg_write(dev, at, (uint16_t)((ctrl | set) & ~clear), 2);
}

static void bring_up(void)
{
    uint64_t want = EM_VIRTIO_F_VERSION_1 | F_TOY | EM_VIRTIO_F_INDIRECT_DESC;

    ck_assert_uint_eq(vdrv_negotiate(drv, want), want);
    for (unsigned q = 0; q < NQ; q++)
        ck_assert_int_eq(vdrv_setup_queue(drv, q, 8, false), 0);
    vdrv_driver_ok(drv);
    ck_assert_msg(vdrv_status(drv) == 0x0f, "status 0x%x: %s", vdrv_status(drv), cap.text);
}

/* Sends `text` through queue q and checks the answer. */
static void round_trip(unsigned q, const char *text)
{
    size_t n = strlen(text);
    uint64_t in = vdrv_alloc(drv, n, 1), out = vdrv_alloc(drv, n, 1);
    struct vdrv_buf bufs[2] = { { in, (uint32_t)n, false }, { out, (uint32_t)n, true } };
    uint16_t head;
    uint32_t len;
    int hd;

    memcpy(vdrv_host(drv, in, n), text, n);
    hd = vdrv_add(drv, q, bufs, 2, false);
    ck_assert_int_ge(hd, 0);
    vdrv_kick(drv, q);
    ck_assert_msg(vdrv_wait_used(drv, q, TIMEOUT, &head, &len), "no answer (%s)", cap.text);
    ck_assert_uint_eq(head, (uint16_t)hd);
    ck_assert_uint_eq(len, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(((char *)vdrv_host(drv, out, n))[i], toupper(text[i]));
}

static bool wait_for(bool (*cond)(void), unsigned ms)
{
    for (unsigned i = 0; i < ms; i++) {
        if (cond())
            return true;
        usleep(1000);
    }
    return cond();
}

static bool intx_up(void)
{
    return vph_intx_level(dev) == 1;
}

static bool pba_bit1(void)
{
    return (pba() & 2) != 0;
}

static void config_change(void)
{
    em_virtio_lock(toy.vd);
    em_virtio_config_changed(toy.vd);
    em_virtio_unlock(toy.vd);
}

/* ---- identity and capabilities ---- */

START_TEST(identity_and_class)
{
    h = vph_create(&(struct vph_opts){ .log = &cap.logger });
    ck_assert_ptr_nonnull(h);
    for (unsigned i = 0; i < sizeof(class_of) / sizeof(class_of[0]); i++) {
        uint16_t id = toy_as[i].device_id;

        memset(&toy, 0, sizeof(toy));
        toy.vd = em_virtio_create(&toy_as[i], &toy, vph_mem(h), &cap.logger);
        dev = vph_plug(h, toy.vd, "toy");
        ck_assert_ptr_nonnull(dev);
        ck_assert_uint_eq(vph_cfg_read(dev, EM_PCI_VENDOR_ID, 2), 0x1af4);
        ck_assert_uint_eq(vph_cfg_read(dev, EM_PCI_DEVICE_ID, 2), 0x1040u + id);
        ck_assert_uint_eq(vph_cfg_read(dev, EM_PCI_REVISION, 1), 1);
        ck_assert_uint_eq(vph_cfg_read(dev, EM_PCI_SUBSYS_VENDOR, 2), 0x1af4);
        ck_assert_uint_eq(vph_cfg_read(dev, EM_PCI_SUBSYS_ID, 2), id);
        ck_assert_uint_eq(vph_cfg_read(dev, EM_PCI_REVISION, 4) >> 8, class_of[i]);
        ck_assert_uint_eq(em_virtio_pci_class(id), class_of[i]);
        ck_assert_uint_eq(vph_cfg_read(dev, EM_PCI_INTERRUPT_PIN, 1), 1);
        ck_assert_uint_eq(vph_cfg_read(dev, EM_PCI_HEADER_TYPE, 1), 0);
        ck_assert_uint_eq(vph_cfg_read(dev, EM_PCI_INTERRUPT_LINE, 1),
                          EM_PCI_GSI(vph_slot(dev), 0));
        vph_unplug(dev);
    }
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

/* The size a BAR decodes, by the sizing protocol; restores it. */
static uint64_t bar_size(unsigned bar)
{
    unsigned off = EM_PCI_BAR0 + 4 * bar;
    uint32_t lo = vph_cfg_read(dev, off, 4), hi = 0, slo, shi = 0xffffffff;
    bool is64 = (lo & 6) == 4;

    if (is64)
        hi = vph_cfg_read(dev, off + 4, 4);
    vph_cfg_write(dev, off, 0xffffffff, 4);
    if (is64)
        vph_cfg_write(dev, off + 4, 0xffffffff, 4);
    slo = vph_cfg_read(dev, off, 4) & ~0xfu;
    if (is64)
        shi = vph_cfg_read(dev, off + 4, 4);
    vph_cfg_write(dev, off, lo, 4);
    if (is64)
        vph_cfg_write(dev, off + 4, hi, 4);
    return ~((uint64_t)shi << 32 | slo) + 1;
}

static void region_ok(const struct vph_region *r, uint32_t offset, uint32_t length, uint8_t len)
{
    ck_assert(r->present);
    ck_assert_uint_eq(r->count, 1);
    ck_assert_uint_eq(r->bar, EM_VIRTIO_PCI_BAR);
    ck_assert_uint_eq(r->offset, offset);
    ck_assert_uint_eq(r->length, length);
    ck_assert_uint_eq(r->cap_len, len);
    ck_assert_uint_eq(r->offset % 4, 0);
    ck_assert_uint_le((uint64_t)r->offset + r->length, bar_size(EM_VIRTIO_PCI_BAR));
}

START_TEST(capability_walk)
{
    const struct vph_caps *c;

    start();
    c = caps();
    ck_assert_uint_eq(c->walked, 6);
    region_ok(&c->common, 0x0000, 0x3c, 16); /* virtio 1.2's whole structure */
    region_ok(&c->isr, 0x1000, 1, 16);
    region_ok(&c->device, 0x2000, 4, 16);
    region_ok(&c->notify, 0x3000, NQ * 4, 20);
    ck_assert_uint_eq(c->notify_mult, 4);
    /* The access window: its own type, pointing nowhere until written. */
    ck_assert(c->pci_cfg.present);
    ck_assert_uint_eq(c->pci_cfg.count, 1);
    ck_assert_uint_eq(c->pci_cfg.cap_len, 20);
    /* The regions do not overlap: each in its own 4 KiB page. */
    ck_assert_uint_lt(c->common.offset + c->common.length, c->isr.offset);
    ck_assert_uint_lt(c->isr.offset + c->isr.length, c->device.offset);
    ck_assert_uint_lt(c->device.offset + c->device.length, c->notify.offset);
    /* BAR 4: 64-bit memory, 16 KiB; BAR 1: 32-bit memory with MSI-X. */
    ck_assert_uint_eq(vph_cfg_read(dev, EM_PCI_BAR0 + 16, 4) & 0xf, 0x4);
    ck_assert_uint_eq(bar_size(4), EM_VIRTIO_PCI_BAR_SIZE);
    ck_assert_uint_eq(vph_cfg_read(dev, EM_PCI_BAR0 + 4, 4) & 0xf, 0x0);
    ck_assert_uint_eq(bar_size(1), 4096);
    ck_assert_uint_ne(c->msix_cap, 0);
    ck_assert_uint_eq(c->msix_size, NQ + 1);
    ck_assert_uint_eq(c->table_bar, 1);
    ck_assert_uint_eq(c->table_off, 0);
    ck_assert_uint_eq(c->pba_bar, 1);
    ck_assert_uint_eq(c->pba_off, 0x800);
    /* The capability headers are read-only. */
    vph_cfg_write(dev, c->common.cap + 3, 7, 1);
    vph_cfg_write(dev, c->common.cap + 8, 0x1234, 4);
    vph_cfg_write(dev, c->notify.cap + 16, 0, 4);
    ck_assert_uint_eq(vph_cfg_read(dev, c->common.cap + 3, 1), VIRTIO_PCI_CAP_COMMON_CFG);
    ck_assert_uint_eq(vph_cfg_read(dev, c->common.cap + 8, 4), 0);
    ck_assert_uint_eq(vph_cfg_read(dev, c->notify.cap + 16, 4), 4);
    ck_assert_uint_eq(vph_cfg_read(dev, c->msix_cap + 2, 2) & 0x7ff, NQ);
    vph_cfg_write(dev, c->msix_cap + 2, 0x3fff, 2); /* the table size is not writable */
    ck_assert_uint_eq(vph_cfg_read(dev, c->msix_cap + 2, 2), NQ);
}
END_TEST

START_TEST(no_device_capability_without_config)
{
    start_with(false, false, &toy_no_config);
    ck_assert_uint_eq(caps()->walked, 5);
    ck_assert(!caps()->device.present);
    ck_assert(caps()->common.present && caps()->notify.present && caps()->isr.present);
}
END_TEST

/* ---- the PCI configuration access window ---- */

static void window(uint8_t bar, uint32_t offset, uint32_t length)
{
    unsigned c = caps()->pci_cfg.cap;

    vph_cfg_write(dev, c + 4, bar, 1);
    vph_cfg_write(dev, c + 8, offset, 4);
    vph_cfg_write(dev, c + 12, length, 4);
}

static uint32_t window_data(unsigned size)
{
    return vph_cfg_read(dev, caps()->pci_cfg.cap + 16, size);
}

static void window_put(uint32_t v, unsigned size)
{
    vph_cfg_write(dev, caps()->pci_cfg.cap + 16, v, size);
}

START_TEST(pci_cfg_window)
{
    start();
    /* Reads: num_queues, then the device features' first dword. */
    window(4, VIRTIO_PCI_COMMON_NUMQ, 2);
    ck_assert_uint_eq(window_data(4) & 0xffff, NQ);
    ck_assert_uint_eq(window_data(2), NQ);
    window(4, VIRTIO_PCI_COMMON_DF, 4);
    ck_assert_uint_eq(window_data(4), (uint32_t)em_virtio_device_features(toy.vd));
    /* Writes: the status, then the queue selector, seen through the BAR. */
    window(4, VIRTIO_PCI_COMMON_STATUS, 1);
    window_put(EM_VIRTIO_S_ACKNOWLEDGE, 1);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_STATUS, 1), EM_VIRTIO_S_ACKNOWLEDGE);
    window(4, VIRTIO_PCI_COMMON_Q_SELECT, 2);
    window_put(1, 4);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_SELECT, 2), 1);
    /* The device configuration, byte-wide. */
    toy.config = 0x44332211;
    window(4, EM_VIRTIO_PCI_DEVICE_OFF + 2, 1);
    ck_assert_uint_eq(window_data(1), 0x33);

    /* Bad windows change nothing, and reads leave the data as it was. */
    cwr(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
    window(4, VIRTIO_PCI_COMMON_Q_SELECT, 3); /* length 3 */
    window_put(1, 4);
    window(4, VIRTIO_PCI_COMMON_Q_SELECT + 1, 2); /* misaligned */
    window_put(1, 4);
    window(4, EM_VIRTIO_PCI_BAR_SIZE - 2, 4); /* beyond the BAR */
    window_put(1, 4);
    window(4, 0xfffffffc, 4); /* offset + length wraps */
    window_put(1, 4);
    window(1, 0, 4); /* the MSI-X BAR holds no virtio structure */
    window_put(0x12345678, 4);
    window(5, VIRTIO_PCI_COMMON_Q_SELECT, 2); /* a BAR that does not exist */
    window_put(1, 4);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
    ck_assert_uint_eq(table_rd(0, 0), 0);
    window(4, VIRTIO_PCI_COMMON_NUMQ, 3);
    window_put(0xa5a5a5a5, 4);
    ck_assert_uint_eq(window_data(4), 0xa5a5a5a5);
}
END_TEST

START_TEST(pci_cfg_window_drives_a_device)
{
    start();
    bring_up();
    /* A kick through the window reaches the queue: the buffers come back. */
    {
        uint64_t in = vdrv_alloc(drv, 3, 1), out = vdrv_alloc(drv, 3, 1);
        struct vdrv_buf bufs[2] = { { in, 3, false }, { out, 3, true } };
        uint16_t head;
        uint32_t len;

        memcpy(vdrv_host(drv, in, 3), "abc", 3);
        ck_assert_int_ge(vdrv_add(drv, 0, bufs, 2, false), 0);
        window(4, EM_VIRTIO_PCI_NOTIFY_OFF, 2);
        window_put(0, 2);
        ck_assert(vdrv_wait_used(drv, 0, TIMEOUT, &head, &len));
        ck_assert_mem_eq(vdrv_host(drv, out, 3), "ABC", 3);
    }
    /* ISR read through the window clears it and lowers INTx. */
    vph_intx_service(dev, false);
    round_trip(0, "x");
    ck_assert(wait_for(intx_up, TIMEOUT));
    window(4, EM_VIRTIO_PCI_ISR_OFF, 1);
    ck_assert_uint_eq(window_data(1), 1);
    ck_assert_int_eq(vph_intx_level(dev), 0);
    ck_assert_uint_eq(window_data(1), 0);
}
END_TEST

/* ---- the common configuration ---- */

START_TEST(common_cfg_device_fields)
{
    uint8_t gen;

    start();
    cwr(VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_DF, 4),
                      (uint32_t)(F_TOY | EM_VIRTIO_F_INDIRECT_DESC | EM_VIRTIO_F_EVENT_IDX));
    cwr(VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_DF, 4), 1); /* VERSION_1 */
    cwr(VIRTIO_PCI_COMMON_DFSELECT, 0x12345678, 4);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_DFSELECT, 4), 0x12345678);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_DF, 4), 0);
    cwr(VIRTIO_PCI_COMMON_DF, 0xffffffff, 4); /* read-only */
    cwr(VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_DF, 4), 1);

    cwr(VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
    cwr(VIRTIO_PCI_COMMON_GF, 0x30000008, 4);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_GF, 4), 0x30000008);
    cwr(VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
    cwr(VIRTIO_PCI_COMMON_GF, 1, 4);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_GF, 4), 1);
    ck_assert_uint_eq(em_virtio_driver_features(toy.vd), 0x130000008ull);
    cwr(VIRTIO_PCI_COMMON_GFSELECT, 5, 4);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_GFSELECT, 4), 5);
    cwr(VIRTIO_PCI_COMMON_GF, 0xffffffff, 4);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_GF, 4), 0);
    ck_assert_uint_eq(em_virtio_driver_features(toy.vd), 0x130000008ull);

    /* Vectors: the table has NQ + 1 entries; anything else is NO_VECTOR. */
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_MSIX, 2), VPH_NO_VECTOR);
    cwr(VIRTIO_PCI_COMMON_MSIX, NQ, 2);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_MSIX, 2), NQ);
    cwr(VIRTIO_PCI_COMMON_MSIX, NQ + 1, 2);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_MSIX, 2), VPH_NO_VECTOR);
    cwr(VIRTIO_PCI_COMMON_MSIX, 0, 2);
    cwr(VIRTIO_PCI_COMMON_MSIX, 0x7ff, 2);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_MSIX, 2), VPH_NO_VECTOR);

    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
    cwr(VIRTIO_PCI_COMMON_NUMQ, 7, 2);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_NUMQ, 2), NQ);

    cwr(VIRTIO_PCI_COMMON_STATUS, EM_VIRTIO_S_ACKNOWLEDGE, 1);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_STATUS, 1), EM_VIRTIO_S_ACKNOWLEDGE);
    cwr(VIRTIO_PCI_COMMON_STATUS, EM_VIRTIO_S_ACKNOWLEDGE | EM_VIRTIO_S_DRIVER, 1);
    ck_assert_uint_eq(em_virtio_status(toy.vd), EM_VIRTIO_S_ACKNOWLEDGE | EM_VIRTIO_S_DRIVER);

    gen = (uint8_t)crd(VIRTIO_PCI_COMMON_CFGGENERATION, 1);
    config_change();
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_CFGGENERATION, 1), (uint8_t)(gen + 1));
    cwr(VIRTIO_PCI_COMMON_CFGGENERATION, 0x77, 1);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_CFGGENERATION, 1), (uint8_t)(gen + 1));
}
END_TEST

static void set_ring64(unsigned lo, uint64_t v)
{
    cwr(lo, (uint32_t)v, 4);
    cwr(lo + 4, v >> 32, 4);
}

START_TEST(common_cfg_queue_fields)
{
    struct em_virtio_queue_regs r;

    start();
    cwr(VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_SELECT, 2), 1);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 16);
    cwr(VIRTIO_PCI_COMMON_Q_SIZE, 8, 2);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 8);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_MSIX, 2), VPH_NO_VECTOR);
    cwr(VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_MSIX, 2), 2);
    cwr(VIRTIO_PCI_COMMON_Q_MSIX, NQ + 1, 2);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_MSIX, 2), VPH_NO_VECTOR);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_NOFF, 2), 1);
    cwr(VIRTIO_PCI_COMMON_Q_NOFF, 9, 2);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_NOFF, 2), 1);

    /* 64-bit ring addresses, as two dwords and as one qword. */
    set_ring64(VIRTIO_PCI_COMMON_Q_DESCLO, 0x112345000ull);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0x12345000);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_DESCHI, 4), 0x1);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0x112345000ull);
    cwr(VIRTIO_PCI_COMMON_Q_AVAILLO, 0xaaaabbbbccccd000ull, 8);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_AVAILLO, 4), 0xccccd000);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_AVAILHI, 4), 0xaaaabbbb);
    set_ring64(VIRTIO_PCI_COMMON_Q_USEDLO, 0x0000000700003000ull);
    cwr(VIRTIO_PCI_COMMON_Q_USEDLO, 0x4000, 4); /* the low half alone */
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_USEDLO, 8), 0x0000000700004000ull);
    em_virtio_queue_regs(toy.vd, 1, &r);
    ck_assert_uint_eq(r.size, 8);
    ck_assert_uint_eq(r.desc, 0x112345000ull);
    ck_assert_uint_eq(r.avail, 0xaaaabbbbccccd000ull);
    ck_assert_uint_eq(r.used, 0x700004000ull);
    /* Queue 0 kept its own registers. */
    cwr(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 16);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_NOFF, 2), 0);
    /* Beyond the structure the driver knows: reserved, zero. */
    ck_assert_uint_eq(crd(0x38, 2), 0);
    ck_assert_uint_eq(crd(0x3a, 2), 0);
    ck_assert_uint_eq(crd(0x100, 4), 0);
}
END_TEST

START_TEST(queue_select_out_of_range)
{
    static const unsigned sel[] = { NQ, EM_VIRTIO_MAX_QUEUES, 0xffff };

    start();
    for (unsigned i = 0; i < 3; i++) {
        cwr(VIRTIO_PCI_COMMON_Q_SELECT, sel[i], 2);
        ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_SELECT, 2), sel[i]);
        ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
        cwr(VIRTIO_PCI_COMMON_Q_SIZE, 8, 2);
        ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
        cwr(VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
        ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_MSIX, 2), VPH_NO_VECTOR);
        set_ring64(VIRTIO_PCI_COMMON_Q_DESCLO, 0x10000);
        ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
        cwr(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
        ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
        ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_NOFF, 2), 0);
    }
    ck_assert(!(em_virtio_status(toy.vd) & EM_VIRTIO_S_NEEDS_RESET));
    /* A doorbell beyond the queues is nothing either. */
    vph_write(dev, &caps()->notify, NQ * 4, NQ, 2);
    vph_write(dev, &caps()->notify, 0xffe, 0, 2);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(wrong_widths)
{
    start();
    cwr(VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
    /* Reads of the wrong width give 0 and change nothing. */
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_SIZE, 1), 0);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_SIZE, 4), 0);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_NUMQ, 4), 0);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_DF, 2), 0);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_DFSELECT, 8), 0);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_STATUS, 2), 0);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_DESCLO + 2, 4), 0);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_DESCHI, 8), 0);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_SELECT + 1, 1), 0);
    /* Writes of the wrong width are dropped. */
    cwr(VIRTIO_PCI_COMMON_Q_SELECT, 0, 4);
    cwr(VIRTIO_PCI_COMMON_Q_SELECT, 0, 1);
    cwr(VIRTIO_PCI_COMMON_Q_SELECT + 1, 0, 1);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_SELECT, 2), 1);
    cwr(VIRTIO_PCI_COMMON_STATUS, EM_VIRTIO_S_ACKNOWLEDGE, 2);
    cwr(VIRTIO_PCI_COMMON_STATUS, EM_VIRTIO_S_ACKNOWLEDGE, 4);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_STATUS, 1), 0);
    cwr(VIRTIO_PCI_COMMON_GFSELECT, 1, 2);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_GFSELECT, 4), 0);
    cwr(VIRTIO_PCI_COMMON_Q_DESCHI, 0x11111111, 8); /* a misaligned qword */
    cwr(VIRTIO_PCI_COMMON_Q_DESCLO + 2, 0x11111111, 4);
    cwr(VIRTIO_PCI_COMMON_Q_DESCLO, 0x1111, 2);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
    cwr(VIRTIO_PCI_COMMON_Q_SIZE, 4, 4);
    cwr(VIRTIO_PCI_COMMON_Q_MSIX, 1, 1);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 16);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_MSIX, 2), VPH_NO_VECTOR);
    /* Accesses that run off the end of a region. */
    ck_assert_uint_eq(vph_bar_read(dev, 4, EM_VIRTIO_PCI_REGION - 2, 4), 0);
    vph_bar_write(dev, 4, EM_VIRTIO_PCI_REGION - 2, 0xffffffff, 4);
    vph_bar_write(dev, 4, EM_VIRTIO_PCI_NOTIFY_OFF - 1, 0xffff, 2);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_STATUS, 1), 0);
    ck_assert(!(em_virtio_status(toy.vd) & EM_VIRTIO_S_NEEDS_RESET));
}
END_TEST

START_TEST(isr_width_and_read_only)
{
    start();
    vph_intx_service(dev, false);
    bring_up();
    round_trip(0, "isr");
    ck_assert(wait_for(intx_up, TIMEOUT));
    /* Not a byte read of ISR: no value, and ISR stays set. */
    ck_assert_uint_eq(vph_read(dev, &caps()->isr, 0, 2), 0);
    ck_assert_uint_eq(vph_read(dev, &caps()->isr, 0, 4), 0);
    ck_assert_uint_eq(vph_read(dev, &caps()->isr, 1, 1), 0);
    vph_write(dev, &caps()->isr, 0, 0, 1);
    ck_assert_int_eq(vph_intx_level(dev), 1);
    ck_assert_uint_eq(vph_read_isr(dev), 1);
    ck_assert_int_eq(vph_intx_level(dev), 0);
}
END_TEST

START_TEST(device_config_through_bar)
{
    uint32_t v = 0xcafef00d, got = 0;
    uint8_t b[8];

    start();
    vdrv_config_write(drv, 0, &v, 4);
    ck_assert_uint_eq(toy.config, 0xcafef00d);
    vdrv_config_read(drv, 0, &got, 4);
    ck_assert_uint_eq(got, 0xcafef00d);
    ck_assert_uint_eq(vph_read(dev, &caps()->device, 1, 1), 0xf0);
    ck_assert_uint_eq(vph_read(dev, &caps()->device, 2, 2), 0xcafe);
    /* Past the device's configuration: all-ones from the core, dropped
     * writes. (The driver reads 4 bytes at 2 as two halves.) */
    memset(b, 0, sizeof(b));
    vdrv_config_read(drv, 2, b, 4);
    ck_assert_uint_eq(b[0], 0xfe);
    ck_assert_uint_eq(b[1], 0xca);
    ck_assert_uint_eq(b[2], 0xff);
    ck_assert_uint_eq(b[3], 0xff);
    ck_assert_uint_eq(vph_read(dev, &caps()->device, 2, 4), 0xffffffff);
    vph_write(dev, &caps()->device, 2, 0, 4);
    vph_write(dev, &caps()->device, 0, 0, 8);
    ck_assert_uint_eq(toy.config, 0xcafef00d);
}
END_TEST

/* ---- MSI-X ---- */

START_TEST(msix_per_queue_vectors)
{
    start();
    vph_use_msix(dev, true);
    ck_assert_uint_eq(vph_config_vector_readback(dev), 0);
    bring_up();
    ck_assert_uint_eq(vph_queue_vector_readback(dev, 0), 1);
    ck_assert_uint_eq(vph_queue_vector_readback(dev, 1), 2);
    for (int i = 0; i < 20; i++)
        round_trip(0, "vector one");
    ck_assert(vph_wait_msi(dev, 1, 20, TIMEOUT));
    ck_assert_uint_eq(vdrv_interrupts(drv, 0), vph_msi_count(dev, 1));
    ck_assert_uint_eq(vph_msi_count(dev, 2), 0);
    round_trip(1, "vector two");
    ck_assert(vph_wait_msi(dev, 2, 1, TIMEOUT));
    ck_assert_uint_eq(vph_msi_count(dev, 0), 0);
    /* No INTx, no ISR in MSI-X mode. */
    ck_assert_int_eq(vph_intx_level(dev), 0);
    ck_assert_uint_eq(vph_isr_serviced(dev, 1), 0);
    ck_assert_uint_eq(vph_stray_msis(h), 0);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(msix_shared_vector)
{
    start();
    vph_use_msix(dev, true);
    vph_set_queue_vector(dev, 0, 1);
    vph_set_queue_vector(dev, 1, 1);
    bring_up();
    round_trip(0, "a");
    round_trip(1, "b");
    ck_assert(vph_wait_msi(dev, 1, 2, TIMEOUT));
    ck_assert_uint_eq(vph_msi_count(dev, 2), 0);
}
END_TEST

START_TEST(msix_no_vector)
{
    start();
    vph_use_msix(dev, true);
    vph_set_queue_vector(dev, 0, VPH_NO_VECTOR);
    bring_up();
    ck_assert_uint_eq(vph_queue_vector_readback(dev, 0), VPH_NO_VECTOR);
    vph_intx_service(dev, false);
    for (int i = 0; i < 5; i++)
        round_trip(0, "polled");
    usleep(20000);
    for (unsigned v = 0; v < NQ + 1; v++)
        ck_assert_uint_eq(vph_msi_count(dev, v), 0);
    ck_assert_int_eq(vph_intx_level(dev), 0);
    ck_assert_uint_eq(vph_read_isr(dev), 0);
    ck_assert_uint_eq(pba(), 0);
}
END_TEST

START_TEST(msix_entry_mask_then_pending)
{
    unsigned before;

    start();
    vph_use_msix(dev, true);
    bring_up();
    round_trip(0, "first");
    ck_assert(vph_wait_msi(dev, 1, 1, TIMEOUT));
    before = vph_msi_count(dev, 1);
    table_wr(1, 12, EM_MSIX_ENTRY_MASKBIT);
    ck_assert_uint_eq(table_rd(1, 12), 1);
    round_trip(0, "masked");
    round_trip(0, "masked again");
    ck_assert(wait_for(pba_bit1, TIMEOUT));
    ck_assert_uint_eq(pba(), 2);
    ck_assert_uint_eq(vph_msi_count(dev, 1), before);
    ck_assert_int_eq(vph_intx_level(dev), 0);
    /* Unmasking delivers the pending interrupt once and clears the bit. */
    table_wr(1, 12, 0);
    ck_assert(vph_wait_msi(dev, 1, before + 1, TIMEOUT));
    ck_assert_uint_eq(pba(), 0);
    usleep(20000);
    ck_assert_uint_eq(vph_msi_count(dev, 1), before + 1);
    /* Unmasking with nothing pending delivers nothing. */
    table_wr(1, 12, 1);
    table_wr(1, 12, 0);
    usleep(20000);
    ck_assert_uint_eq(vph_msi_count(dev, 1), before + 1);
}
END_TEST

START_TEST(msix_function_mask)
{
    start();
    vph_use_msix(dev, true);
    bring_up();
    msix_ctrl(EM_MSIX_CTRL_MASKALL, 0);
    round_trip(0, "all masked");
    round_trip(1, "all masked");
    ck_assert(wait_for(pba_bit1, TIMEOUT));
    usleep(20000);
    ck_assert_uint_eq(pba(), 6);
    ck_assert_uint_eq(vph_msi_count(dev, 1) + vph_msi_count(dev, 2), 0);
    ck_assert_int_eq(vph_intx_level(dev), 0);
    /* An entry masked too stays pending when the function is unmasked. */
    table_wr(2, 12, 1);
    msix_ctrl(0, EM_MSIX_CTRL_MASKALL);
    ck_assert(vph_wait_msi(dev, 1, 1, TIMEOUT));
    ck_assert_uint_eq(vph_msi_count(dev, 2), 0);
    ck_assert_uint_eq(pba(), 4);
    table_wr(2, 12, 0);
    ck_assert(vph_wait_msi(dev, 2, 1, TIMEOUT));
    ck_assert_uint_eq(pba(), 0);
}
END_TEST

START_TEST(msix_disabled_keeps_pending_until_enabled)
{
    start();
    vph_use_msix(dev, true);
    bring_up();
    msix_ctrl(EM_MSIX_CTRL_MASKALL, 0);
    round_trip(0, "pending");
    ck_assert(wait_for(pba_bit1, TIMEOUT));
    /* Disabled and masked: the pending bit waits for enable + unmask. */
    vph_intx_service(dev, false);
    msix_ctrl(0, EM_MSIX_CTRL_ENABLE);
    ck_assert_uint_eq(vph_msi_count(dev, 1), 0);
    msix_ctrl(EM_MSIX_CTRL_ENABLE, EM_MSIX_CTRL_MASKALL);
    ck_assert(vph_wait_msi(dev, 1, 1, TIMEOUT));
}
END_TEST

START_TEST(msix_table_hostile)
{
    const struct vph_caps *c;
    unsigned bar;

    start();
    c = caps();
    bar = c->table_bar;
    /* Entries power on masked and zero. */
    for (unsigned v = 0; v < NQ + 1; v++) {
        ck_assert_uint_eq(table_rd(v, 0), 0);
        ck_assert_uint_eq(table_rd(v, 8), 0);
        ck_assert_uint_eq(table_rd(v, 12), 1);
    }
    /* Beyond the table, up to and around the PBA, and at the BAR's end. */
    for (uint64_t off = 16ull * (NQ + 1); off < 4096; off += 4)
        vph_bar_write(dev, bar, off, 0xffffffff, 4);
    for (uint64_t off = 16ull * (NQ + 1); off < 4096; off += 4)
        ck_assert_uint_eq(vph_bar_read(dev, bar, off, 4), 0);
    vph_bar_write(dev, bar, 4088, ~0ull, 8);
    ck_assert_uint_eq(vph_bar_read(dev, bar, 4088, 8), 0);
    /* Reserved vector-control bits, misaligned and odd-sized accesses. */
    table_wr(0, 12, 0xfffffffe);
    ck_assert_uint_eq(table_rd(0, 12), 0);
    table_wr(0, 0, 0xfee00003);
    ck_assert_uint_eq(table_rd(0, 0), 0xfee00000);
    vph_bar_write(dev, bar, 8, 0x1234, 2);
    vph_bar_write(dev, bar, 9, 0x12, 1);
    vph_bar_write(dev, bar, 4, 0x1122334455667788ull, 8);
    ck_assert_uint_eq(table_rd(0, 8), 0);
    ck_assert_uint_eq(vph_bar_read(dev, bar, 8, 2), 0);
    ck_assert_uint_eq(vph_bar_read(dev, bar, 2, 4), 0);
    /* A qword write sets two fields. */
    vph_bar_write(dev, bar, 16, 0x00000001fee01000ull, 8);
    ck_assert_uint_eq(table_rd(1, 0), 0xfee01000);
    ck_assert_uint_eq(table_rd(1, 4), 1);
    ck_assert_uint_eq(vph_bar_read(dev, bar, 16, 8), 0x00000001fee01000ull);
    /* Vectors beyond the table read back as NO_VECTOR. */
    cwr(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
    for (unsigned v = NQ + 1; v < 0x10000; v = v * 3 + 1) {
        cwr(VIRTIO_PCI_COMMON_Q_MSIX, v, 2);
        ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_MSIX, 2), VPH_NO_VECTOR);
        cwr(VIRTIO_PCI_COMMON_MSIX, v, 2);
        ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_MSIX, 2), VPH_NO_VECTOR);
    }
    /* A nonsense message is delivered as programmed, and only as that. */
    vph_use_msix(dev, true);
    bring_up();
    table_wr(1, 12, 1);
    table_wr(1, 0, 0);
    table_wr(1, 8, 0);
    table_wr(1, 12, 0);
    round_trip(0, "to nowhere");
    for (int i = 0; i < 1000 && vph_stray_msis(h) == 0; i++)
        usleep(1000);
    ck_assert_uint_eq(vph_stray_msis(h), 1);
    ck_assert_uint_eq(vph_msi_count(dev, 1), 0);
}
END_TEST

START_TEST(irqfd_delivery_and_routes)
{
    unsigned before;

    start_with(true, false, &toy_ops);
    vph_use_msix(dev, true);
    bring_up();
    ck_assert_uint_eq(vph_irqfds(h), 0); /* created at first use */
    round_trip(0, "through an irqfd");
    ck_assert(vph_wait_msi(dev, 1, 1, TIMEOUT));
    ck_assert_uint_eq(vph_irqfds(h), 1);
    round_trip(1, "another");
    ck_assert(vph_wait_msi(dev, 2, 1, TIMEOUT));
    ck_assert_uint_eq(vph_irqfds(h), 2);
    ck_assert_uint_eq(vph_irqfd_updates(h), 0);
    /* The guest retargets entry 1 (at vector 2's message): the route is
     * rewritten at the next interrupt, which arrives as the new message. */
    before = vph_msi_count(dev, 2);
    table_wr(1, 12, 1);
    table_wr(1, 8, VPH_MSI_DATA(0, 2));
    table_wr(1, 12, 0);
    round_trip(0, "retargeted");
    ck_assert(vph_wait_msi(dev, 2, before + 1, TIMEOUT));
    ck_assert_uint_eq(vph_irqfd_updates(h), 1);
    ck_assert_uint_eq(vph_irqfds(h), 2);
    /* Masked: no eventfd write, a pending bit, delivered on unmask. */
    table_wr(1, 12, 1);
    round_trip(0, "masked");
    ck_assert(wait_for(pba_bit1, TIMEOUT));
    ck_assert_uint_eq(vph_msi_count(dev, 2), before + 1);
    table_wr(1, 12, 0);
    ck_assert(vph_wait_msi(dev, 2, before + 2, TIMEOUT));
    vph_unplug(dev);
    dev = NULL;
    ck_assert_uint_eq(vph_irqfds(h), 0);
    ck_assert_uint_eq(vph_accel_errors(h), 0);
}
END_TEST

/* ---- INTx and ISR ---- */

START_TEST(intx_and_isr_read_to_clear)
{
    start();
    vph_intx_service(dev, false);
    bring_up();
    ck_assert_int_eq(vph_intx_level(dev), 0);
    round_trip(0, "level");
    ck_assert(wait_for(intx_up, TIMEOUT));
    ck_assert(vph_cfg_read(dev, EM_PCI_STATUS, 2) & EM_PCI_STATUS_INTERRUPT);
    ck_assert_uint_eq(vph_read_isr(dev), 1);
    ck_assert_int_eq(vph_intx_level(dev), 0);
    ck_assert(!(vph_cfg_read(dev, EM_PCI_STATUS, 2) & EM_PCI_STATUS_INTERRUPT));
    ck_assert_uint_eq(vph_read_isr(dev), 0);
    /* INTx disabled in the command register: the line stays low, the
     * status bit and ISR still say there is an interrupt. */
    vph_cfg_write(dev, EM_PCI_COMMAND,
                  vph_cfg_read(dev, EM_PCI_COMMAND, 2) | EM_PCI_CMD_INTX_DISABLE, 2);
    round_trip(1, "masked line");
    for (int i = 0; i < 1000 && !(vph_cfg_read(dev, EM_PCI_STATUS, 2) & EM_PCI_STATUS_INTERRUPT);
         i++)
        usleep(1000);
    ck_assert(vph_cfg_read(dev, EM_PCI_STATUS, 2) & EM_PCI_STATUS_INTERRUPT);
    ck_assert_int_eq(vph_intx_level(dev), 0);
    vph_cfg_write(dev, EM_PCI_COMMAND,
                  vph_cfg_read(dev, EM_PCI_COMMAND, 2) & ~EM_PCI_CMD_INTX_DISABLE, 2);
    ck_assert_int_eq(vph_intx_level(dev), 1);
    ck_assert_uint_eq(vph_read_isr(dev), 1);
    ck_assert_int_eq(vph_intx_level(dev), 0);
}
END_TEST

START_TEST(intx_serviced_by_the_driver)
{
    start();
    bring_up();
    for (int i = 0; i < 20; i++) {
        round_trip(0, "zero");
        round_trip(1, "one");
    }
    /* The driver polls the used ring, so the answers can come before the
     * harness's interrupt thread has run on a loaded machine: wait for it. */
    for (int i = 0; i < 1000 && vph_isr_serviced(dev, 1) == 0; i++)
        usleep(1000);
    ck_assert_uint_ge(vph_isr_serviced(dev, 1), 1);
    ck_assert_uint_ge(vdrv_interrupts(drv, 0), 1);
    for (int i = 0; i < 1000 && vph_intx_level(dev); i++)
        usleep(1000);
    ck_assert_int_eq(vph_intx_level(dev), 0);
    ck_assert_uint_eq(vph_msi_count(dev, 0) + vph_msi_count(dev, 1), 0);
}
END_TEST

/* ---- configuration changes ---- */

START_TEST(config_change_msix)
{
    start();
    vph_use_msix(dev, true);
    bring_up();
    config_change();
    ck_assert(vph_wait_msi(dev, 0, 1, TIMEOUT));
    ck_assert_uint_eq(vdrv_config_interrupts(drv), 1);
    ck_assert_int_eq(vph_intx_level(dev), 0);
    /* ISR bit 1 is set in MSI-X mode too (virtio 1.2, 4.1.4.5.1). */
    ck_assert_uint_eq(vph_read_isr(dev), 2);
    /* NO_VECTOR for configuration: no interrupt at all. */
    vph_set_config_vector(dev, VPH_NO_VECTOR);
    config_change();
    usleep(20000);
    ck_assert_uint_eq(vph_msi_count(dev, 0), 1);
}
END_TEST

START_TEST(config_change_intx)
{
    start();
    vph_intx_service(dev, false);
    bring_up();
    config_change();
    ck_assert_int_eq(vph_intx_level(dev), 1);
    ck_assert_uint_eq(vph_read_isr(dev), 2);
    ck_assert_int_eq(vph_intx_level(dev), 0);
    /* Serviced by the driver: a config interrupt reaches vdriver. */
    vph_intx_service(dev, true);
    config_change();
    for (int i = 0; i < 1000 && vdrv_config_interrupts(drv) == 0; i++)
        usleep(1000);
    ck_assert_uint_eq(vdrv_config_interrupts(drv), 1);
    ck_assert_uint_eq(vph_isr_serviced(dev, 2), 1);
}
END_TEST

START_TEST(needs_reset_raises_config_interrupt)
{
    struct vdrv_rings r;
    uint16_t v = 99;

    start();
    vph_use_msix(dev, true);
    bring_up();
    round_trip(0, "fine");
    vdrv_rings(drv, 0, &r);
    ck_assert_int_eq(kc_mem_write(vph_mem(h), r.avail + 4 + 2, &v, 2), 0);
    v = 2;
    ck_assert_int_eq(kc_mem_write(vph_mem(h), r.avail + 2, &v, 2), 0);
    vdrv_kick(drv, 0);
    ck_assert(vph_wait_msi(dev, 0, 1, TIMEOUT));
    ck_assert(vdrv_status(drv) & EM_VIRTIO_S_NEEDS_RESET);
    ck_assert(log_has(&cap, "beyond the queue size"));
}
END_TEST

/* ---- reset ---- */

START_TEST(reset_clears_transport_state)
{
    start();
    vph_use_msix(dev, true);
    bring_up();
    table_wr(1, 12, 1);
    round_trip(0, "pending");
    ck_assert(wait_for(pba_bit1, TIMEOUT));
    cwr(VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
    cwr(VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
    cwr(VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
    config_change();
    ck_assert(vph_wait_msi(dev, 0, 1, TIMEOUT));

    cwr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_STATUS, 1), 0);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_MSIX, 2), VPH_NO_VECTOR);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_DFSELECT, 4), 0);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_GFSELECT, 4), 0);
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
    for (unsigned q = 0; q < NQ; q++) {
        cwr(VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
        ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_MSIX, 2), VPH_NO_VECTOR);
        ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
        ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 16);
        ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
    }
    ck_assert_uint_eq(vph_read_isr(dev), 0); /* the config bit is gone */
    ck_assert_uint_eq(pba(), 0);
    /* The table is the PCI function's: it stays programmed. */
    ck_assert_uint_eq(table_rd(1, 0), (uint32_t)VPH_MSI_ADDR);
    ck_assert_uint_eq(table_rd(1, 8), VPH_MSI_DATA(0, 1));
    ck_assert_uint_eq(table_rd(1, 12), 1);
    ck_assert_uint_ge(toy.resets, 1);
    /* And the device works again. */
    table_wr(1, 12, 0);
    bring_up();
    round_trip(0, "after reset");
    ck_assert(vph_wait_msi(dev, 1, 1, TIMEOUT));
}
END_TEST

START_TEST(reset_lowers_intx)
{
    start();
    vph_intx_service(dev, false);
    bring_up();
    round_trip(0, "up");
    ck_assert(wait_for(intx_up, TIMEOUT));
    cwr(VIRTIO_PCI_COMMON_STATUS, 0, 1);
    ck_assert_int_eq(vph_intx_level(dev), 0);
    ck_assert_uint_eq(vph_read_isr(dev), 0);
}
END_TEST

START_TEST(machine_reset)
{
    start();
    vph_use_msix(dev, true);
    bring_up();
    round_trip(0, "before");
    em_pci_bus_reset(vph_bus(h));
    em_virtio_pci_reset(vph_transport(dev));
    ck_assert_uint_eq(crd(VIRTIO_PCI_COMMON_STATUS, 1), 0);
    ck_assert_uint_eq(vph_cfg_read(dev, caps()->msix_cap + 2, 2), NQ);
    for (unsigned v = 0; v < NQ + 1; v++) {
        ck_assert_uint_eq(table_rd(v, 0), 0);
        ck_assert_uint_eq(table_rd(v, 8), 0);
        ck_assert_uint_eq(table_rd(v, 12), 1);
    }
    vph_use_msix(dev, true);
    bring_up();
    round_trip(0, "after");
    ck_assert(vph_wait_msi(dev, 1, 2, TIMEOUT));
}
END_TEST

/* ---- doorbells ---- */

static void move_bar4(uint64_t addr)
{
    vph_cfg_write(dev, EM_PCI_BAR0 + 16, (uint32_t)addr | 0x4, 4);
    vph_cfg_write(dev, EM_PCI_BAR0 + 20, (uint32_t)(addr >> 32), 4);
}

static bool claimed(uint64_t addr)
{
    uint64_t v;
    bool stop;

    return kc_bus_read(vph_mmio(h), addr, 1, &v, &stop);
}

START_TEST(doorbells_bound_and_moved)
{
    uint64_t base, moved = 0xd0000000ull;
    unsigned hits;

    start_with(false, true, &toy_ops);
    base = vph_bar_addr(dev, 4);
    ck_assert_uint_eq(vph_ioeventfds(h), NQ);
    ck_assert_uint_eq(em_virtio_pci_ioeventfds(vph_transport(dev)), NQ);
    for (unsigned q = 0; q < NQ; q++)
        ck_assert(vph_ioeventfd_at(h, base + 0x3000 + 4 * q, 2, em_virtio_kick_fd(toy.vd, q)));
    bring_up();
    hits = vph_ioeventfd_hits(h);
    round_trip(0, "through the eventfd");
    ck_assert_uint_eq(vph_ioeventfd_hits(h), hits + 1);

    move_bar4(moved);
    ck_assert_uint_eq(vph_bar_addr(dev, 4), moved);
    ck_assert(!claimed(base) && claimed(moved));
    ck_assert_uint_eq(vph_ioeventfds(h), NQ);
    for (unsigned q = 0; q < NQ; q++) {
        ck_assert(!vph_ioeventfd_at(h, base + 0x3000 + 4 * q, 2, em_virtio_kick_fd(toy.vd, q)));
        ck_assert(vph_ioeventfd_at(h, moved + 0x3000 + 4 * q, 2, em_virtio_kick_fd(toy.vd, q)));
    }
    round_trip(1, "after the move");
    ck_assert_uint_eq(vph_ioeventfd_hits(h), hits + 2);
    /* A doorbell of another width exits to the handler, which kicks. */
    {
        uint64_t in = vdrv_alloc(drv, 2, 1), out = vdrv_alloc(drv, 2, 1);
        struct vdrv_buf bufs[2] = { { in, 2, false }, { out, 2, true } };
        uint16_t head;
        uint32_t len;

        memcpy(vdrv_host(drv, in, 2), "hi", 2);
        ck_assert_int_ge(vdrv_add(drv, 0, bufs, 2, false), 0);
        vph_write(dev, &caps()->notify, 0, 0, 4);
        ck_assert(vdrv_wait_used(drv, 0, TIMEOUT, &head, &len));
        ck_assert_mem_eq(vdrv_host(drv, out, 2), "HI", 2);
        ck_assert_uint_eq(vph_ioeventfd_hits(h), hits + 2);
    }
    /* Memory decoding off: no BAR, no doorbell; on: both back. */
    vph_cfg_write(dev, EM_PCI_COMMAND, vph_cfg_read(dev, EM_PCI_COMMAND, 2) & ~EM_PCI_CMD_MEM, 2);
    ck_assert_uint_eq(vph_ioeventfds(h), 0);
    ck_assert_uint_eq(em_virtio_pci_ioeventfds(vph_transport(dev)), 0);
    ck_assert(!claimed(moved));
    vph_cfg_write(dev, EM_PCI_COMMAND, vph_cfg_read(dev, EM_PCI_COMMAND, 2) | EM_PCI_CMD_MEM, 2);
    ck_assert_uint_eq(vph_ioeventfds(h), NQ);
    round_trip(0, "decoding again");
    ck_assert_uint_eq(vph_ioeventfd_hits(h), hits + 3);
    vph_unplug(dev);
    dev = NULL;
    ck_assert_uint_eq(vph_ioeventfds(h), 0);
    ck_assert_uint_eq(vph_accel_errors(h), 0);
}
END_TEST

START_TEST(doorbells_without_ioeventfds_follow_the_bar)
{
    uint64_t base;

    start();
    base = vph_bar_addr(dev, 4);
    ck_assert_uint_eq(em_virtio_pci_ioeventfds(vph_transport(dev)), 0);
    bring_up();
    round_trip(0, "handler");
    move_bar4(0xd8000000ull);
    ck_assert(!claimed(base) && claimed(0xd8000000ull));
    round_trip(0, "handler after the move");
    round_trip(1, "and the other queue");
}
END_TEST

/* ---- hostile drivers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const unsigned sizes[] = { 1, 2, 4, 8 };

START_TEST(hostile_register_traffic)
{
    uint64_t bar1, bar4;

    start_with(true, true, &toy_ops);
    bar1 = vph_bar_addr(dev, 1);
    bar4 = vph_bar_addr(dev, 4);
    vph_use_msix(dev, true);
    bring_up();
    for (unsigned i = 0; i < 30000; i++) {
        uint64_t r = rnd(), v = rnd();
        unsigned size = sizes[r & 3];
        bool write = r & 4;

        /* Mostly plausible values, so the device gets far enough. */
        if (r & 8)
            v &= 0xff;
        switch ((r >> 4) % 5) {
        case 0: /* configuration space, every offset */
            if (size == 8)
                size = 4;
            if (write)
                vph_cfg_write(dev, (unsigned)(r >> 8) % EM_PCI_CONFIG_SIZE, (uint32_t)v, size);
            else
                vph_cfg_read(dev, (unsigned)(r >> 8) % EM_PCI_CONFIG_SIZE, size);
            break;
        case 1: /* the common configuration, field by field */
        case 2: /* all of BAR 4 and a little past it */
            if (write)
                vph_mmio_write(h, bar4 + (r >> 8) % ((r >> 4) % 5 == 1 ? 0x40 : 0x4100), v, size);
            else
                kc_bus_read(vph_mmio(h), bar4 + (r >> 8) % 0x4100, size, &v, &(bool){ false });
            break;
        case 3: /* the MSI-X BAR */
            if (write)
                vph_mmio_write(h, bar1 + (r >> 8) % 0x1100, v, size);
            else
                kc_bus_read(vph_mmio(h), bar1 + (r >> 8) % 0x1100, size, &v, &(bool){ false });
            break;
        default: /* doorbells */
            vph_mmio_write(h, bar4 + 0x3000 + (r >> 8) % 16, v, size);
            break;
        }
    }
    /* Whatever state that left: put the BARs and decoding back, reset,
     * and the device works. */
    vph_cfg_write(dev, EM_PCI_COMMAND, EM_PCI_CMD_MEM | EM_PCI_CMD_MASTER, 2);
    vph_cfg_write(dev, EM_PCI_BAR0 + 4, (uint32_t)bar1, 4);
    move_bar4(bar4);
    ck_assert(claimed(bar1) && claimed(bar4));
    vph_use_msix(dev, true);
    bring_up();
    round_trip(0, "survived");
    round_trip(1, "survived too");
    ck_assert(vph_wait_msi(dev, 2, 1, TIMEOUT));
    ck_assert_uint_eq(vph_ioeventfds(h), NQ);
    ck_assert_uint_eq(vph_accel_errors(h), 0);
}
END_TEST

/* ---- plugging ---- */

START_TEST(plug_errors_leave_the_device_to_the_caller)
{
    static const struct em_virtio_device_ops big_id = TOY_OPS(0x40, 4);
    static const struct em_virtio_device_ops big_config = TOY_OPS(4, 4097);
    struct em_virtio_dev *vd;
    struct toy other = { 0 };

    start();
    /* The slot is taken. */
    vd = em_virtio_create(&toy_ops, &other, vph_mem(h), &cap.logger);
    errno = 0;
    ck_assert_ptr_null(em_virtio_pci_plug(vph_bus(h), vd, (int)vph_slot(dev), "second"));
    ck_assert_int_eq(errno, EBUSY);
    ck_assert_msg(log_has(&cap, "second") && log_has(&cap, "is taken by toy"), "%s", cap.text);
    ck_assert_uint_eq(vph_cfg_read(dev, EM_PCI_VENDOR_ID, 2), 0x1af4);
    /* The device is still whole: it can be plugged elsewhere. */
    {
        struct em_virtio_pci *t = em_virtio_pci_plug(vph_bus(h), vd, -1, "second");

        ck_assert_ptr_nonnull(t);
        ck_assert_uint_ne(em_pci_dev_slot(em_virtio_pci_dev(t)), vph_slot(dev));
        ck_assert_str_eq(em_virtio_pci_name(t), "second");
        ck_assert_ptr_eq(em_virtio_pci_vdev(t), vd);
        em_virtio_pci_destroy(t);
    }
    /* Devices the transport cannot present. */
    other = (struct toy){ 0 };
    vd = em_virtio_create(&big_id, &other, vph_mem(h), &cap.logger);
    errno = 0;
    ck_assert_ptr_null(em_virtio_pci_plug(vph_bus(h), vd, -1, "big-id"));
    ck_assert_int_eq(errno, EINVAL);
    ck_assert(log_has(&cap, "big-id: device ID 64"));
    em_virtio_destroy(vd);
    vd = em_virtio_create(&big_config, &other, vph_mem(h), &cap.logger);
    ck_assert_ptr_null(em_virtio_pci_plug(vph_bus(h), vd, -1, "big-config"));
    ck_assert(log_has(&cap, "big-config: device ID 4 or configuration size 4097"));
    em_virtio_destroy(vd);
    em_virtio_pci_destroy(NULL);
}
END_TEST

START_TEST(unplug_releases_everything)
{
    uint64_t bar1, bar4;
    unsigned slot;

    start_with(true, true, &toy_ops);
    vph_use_msix(dev, true);
    bring_up();
    round_trip(0, "x");
    ck_assert(vph_wait_msi(dev, 1, 1, TIMEOUT));
    bar1 = vph_bar_addr(dev, 1);
    bar4 = vph_bar_addr(dev, 4);
    slot = vph_slot(dev);
    ck_assert_uint_eq(vph_irqfds(h), 1);
    vph_unplug(dev);
    dev = NULL;
    ck_assert(!claimed(bar1) && !claimed(bar4));
    ck_assert_uint_eq(vph_ioeventfds(h), 0);
    ck_assert_uint_eq(vph_irqfds(h), 0);
    ck_assert_uint_eq(vph_accel_errors(h), 0);
    ck_assert_ptr_null(em_pci_bus_dev(vph_bus(h), slot, 0));
}
END_TEST

START_TEST(two_devices)
{
    static struct toy second; /* outlives the test: teardown destroys it */
    struct vph_dev *d2;
    struct vdrv *drv2;
    uint16_t head;
    uint32_t len;

    start();
    memset(&second, 0, sizeof(second));
    second.vd = em_virtio_create(&toy_ops, &second, vph_mem(h), &cap.logger);
    d2 = vph_plug(h, second.vd, "toy2");
    ck_assert_ptr_nonnull(d2);
    ck_assert_uint_ne(vph_slot(d2), vph_slot(dev));
    ck_assert_uint_ne(vph_bar_addr(d2, 4), vph_bar_addr(dev, 4));
    drv2 = vph_vdrv(d2);
    vph_use_msix(d2, true);
    bring_up();
    ck_assert_uint_ne(vdrv_negotiate(drv2, EM_VIRTIO_F_VERSION_1), 0);
    ck_assert_int_eq(vdrv_setup_queue(drv2, 0, 4, false), 0);
    vdrv_driver_ok(drv2);
    round_trip(0, "first device");
    {
        uint64_t in = vdrv_alloc(drv2, 1, 1), out = vdrv_alloc(drv2, 1, 1);
        struct vdrv_buf bufs[2] = { { in, 1, false }, { out, 1, true } };

        *(char *)vdrv_host(drv2, in, 1) = 'q';
        ck_assert_int_ge(vdrv_add(drv2, 0, bufs, 2, false), 0);
        vdrv_kick(drv2, 0);
        ck_assert(vdrv_wait_used(drv2, 0, TIMEOUT, &head, &len));
        ck_assert_int_eq(*(char *)vdrv_host(drv2, out, 1), 'Q');
    }
    ck_assert(vph_wait_msi(d2, 1, 1, TIMEOUT));
    ck_assert_uint_eq(vph_msi_count(dev, 1), 0); /* the first uses INTx */
    ck_assert_uint_eq(vph_stray_msis(h), 0);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_virtio_pci");
    TCase *tc = tcase_create("virtio-pci");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, identity_and_class);
    tcase_add_test(tc, capability_walk);
    tcase_add_test(tc, no_device_capability_without_config);
    tcase_add_test(tc, pci_cfg_window);
    tcase_add_test(tc, pci_cfg_window_drives_a_device);
    tcase_add_test(tc, common_cfg_device_fields);
    tcase_add_test(tc, common_cfg_queue_fields);
    tcase_add_test(tc, queue_select_out_of_range);
    tcase_add_test(tc, wrong_widths);
    tcase_add_test(tc, isr_width_and_read_only);
    tcase_add_test(tc, device_config_through_bar);
    tcase_add_test(tc, msix_per_queue_vectors);
    tcase_add_test(tc, msix_shared_vector);
    tcase_add_test(tc, msix_no_vector);
    tcase_add_test(tc, msix_entry_mask_then_pending);
    tcase_add_test(tc, msix_function_mask);
    tcase_add_test(tc, msix_disabled_keeps_pending_until_enabled);
    tcase_add_test(tc, msix_table_hostile);
    tcase_add_test(tc, irqfd_delivery_and_routes);
    tcase_add_test(tc, intx_and_isr_read_to_clear);
    tcase_add_test(tc, intx_serviced_by_the_driver);
    tcase_add_test(tc, config_change_msix);
    tcase_add_test(tc, config_change_intx);
    tcase_add_test(tc, needs_reset_raises_config_interrupt);
    tcase_add_test(tc, reset_clears_transport_state);
    tcase_add_test(tc, reset_lowers_intx);
    tcase_add_test(tc, machine_reset);
    tcase_add_test(tc, doorbells_bound_and_moved);
    tcase_add_test(tc, doorbells_without_ioeventfds_follow_the_bar);
    tcase_add_test(tc, hostile_register_traffic);
    tcase_add_test(tc, plug_errors_leave_the_device_to_the_caller);
    tcase_add_test(tc, unplug_releases_everything);
    tcase_add_test(tc, two_devices);
    suite_add_tcase(s, tc);
    return s;
}
