/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PCI bus on real libkvmcore buses without KVM: configuration
 * mechanism #1 and ECAM reading the same spaces, absent functions,
 * write masks, BAR assignment, sizing, moves and refused overlaps as seen
 * on the port and MMIO buses, capabilities, shared INTx, reset, the reset
 * control register, and hostile addresses of every kind.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "pci/pci.h"
#include "testutil.h"

#define CAM_ADDR 0xcf8
#define CAM_DATA 0xcfc
#define ON       0x80000000u

#define TEST_VENDOR 0x1af4
#define TEST_DEVICE 0x1000
#define TEST_SLOT   3

/* What the PCI bus reports, and (apart) what the port and MMIO buses do:
 * the tests probe unclaimed addresses, which those report. */
static struct log_capture cap, bus_cap;
static struct kc_bus *pio, *mmio;
static struct em_pci_bus *bus;
static int gsi_level[32];
static unsigned gsi_calls[32];
static unsigned reset_requests;

/* What a BAR handler saw. */
struct bar_log {
    unsigned reads, writes;
    uint64_t last_offset, last_value;
    unsigned last_size;
};

static struct bar_log bar_seen[EM_PCI_BARS];

static uint64_t bar_read(void *opaque, uint64_t offset, unsigned size)
{
    struct bar_log *l = opaque;

    l->reads++;
    l->last_offset = offset;
    l->last_size = size;
    /* Which BAR answered, and where. */
    return (uint64_t)(l - bar_seen + 1) << 24 | offset;
}

static void bar_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct bar_log *l = opaque;

    l->writes++;
    l->last_offset = offset;
    l->last_value = value;
    l->last_size = size;
}

static const struct kc_io_ops bar_ops = { .read = bar_read, .write = bar_write };

static void set_gsi(void *opaque, unsigned gsi, int level)
{
    (void)opaque;
    ck_assert_uint_lt(gsi, 32);
    gsi_level[gsi] = level;
    gsi_calls[gsi]++;
}

static void reset_request(void *opaque)
{
    (void)opaque;
    reset_requests++;
}

static struct em_pci_bus *make_bus(void)
{
    struct em_pci_bus_config cfg = {
        .pio = pio,
        .mmio = mmio,
        .log = &cap.logger,
        .set_gsi = set_gsi,
        .reset_request = reset_request,
    };

    return em_pci_bus_create(&cfg);
}

static void setup(void)
{
    log_capture_init(&cap);
    log_capture_init(&bus_cap);
    memset(gsi_level, 0, sizeof(gsi_level));
    memset(gsi_calls, 0, sizeof(gsi_calls));
    memset(bar_seen, 0, sizeof(bar_seen));
    reset_requests = 0;
    pio = kc_bus_create(KC_BUS_PIO, &bus_cap.logger);
    mmio = kc_bus_create(KC_BUS_MMIO, &bus_cap.logger);
    bus = make_bus();
    ck_assert_ptr_nonnull(bus);
    ck_assert_uint_eq(cap.count, 0);
}

static void teardown(void)
{
    em_pci_bus_destroy(bus);
    kc_bus_destroy(pio);
    kc_bus_destroy(mmio);
}

/* ---- access helpers ---- */

static uint64_t pio_rd(uint16_t port, unsigned size)
{
    uint64_t v;
    bool stop;

    ck_assert_msg(kc_bus_read(pio, port, size, &v, &stop), "port 0x%x unclaimed", port);
    return v;
}

static void pio_wr(uint16_t port, uint64_t v, unsigned size)
{
    bool stop;

    ck_assert_msg(kc_bus_write(pio, port, v, size, &stop), "port 0x%x unclaimed", port);
}

static uint32_t cam_addr(unsigned b, unsigned d, unsigned f, unsigned reg)
{
    return ON | b << 16 | d << 11 | f << 8 | (reg & 0xfc);
}

static uint32_t cam_rd(unsigned b, unsigned d, unsigned f, unsigned reg, unsigned size)
{
    pio_wr(CAM_ADDR, cam_addr(b, d, f, reg), 4);
    return (uint32_t)pio_rd((uint16_t)(CAM_DATA + (reg & 3)), size);
}

static void cam_wr(unsigned b, unsigned d, unsigned f, unsigned reg, uint32_t v, unsigned size)
{
    pio_wr(CAM_ADDR, cam_addr(b, d, f, reg), 4);
    pio_wr((uint16_t)(CAM_DATA + (reg & 3)), v, size);
}

static uint64_t ecam_off(unsigned b, unsigned d, unsigned f, unsigned reg)
{
    return (uint64_t)b << 20 | d << 15 | f << 12 | reg;
}

static uint64_t ecam_rd(unsigned b, unsigned d, unsigned f, unsigned reg, unsigned size)
{
    uint64_t v;
    bool stop;

    ck_assert(kc_bus_read(mmio, EM_PCI_ECAM_BASE + ecam_off(b, d, f, reg), size, &v, &stop));
    return v;
}

static void ecam_wr(unsigned b, unsigned d, unsigned f, unsigned reg, uint64_t v, unsigned size)
{
    bool stop;

    ck_assert(kc_bus_write(mmio, EM_PCI_ECAM_BASE + ecam_off(b, d, f, reg), v, size, &stop));
}

static uint32_t cfg_rd(unsigned d, unsigned reg, unsigned size)
{
    return (uint32_t)ecam_rd(0, d, 0, reg, size);
}

static void cfg_wr(unsigned d, unsigned reg, uint32_t v, unsigned size)
{
    ecam_wr(0, d, 0, reg, v, size);
}

/* True if an access at addr reaches a device on the bus. */
static bool claimed(struct kc_bus *b, uint64_t addr, unsigned size)
{
    uint64_t v;
    bool stop;

    return kc_bus_read(b, addr, size, &v, &stop);
}

/* ---- a test device: I/O BAR0 (32 B), mem BAR1 (4 KiB), 64-bit
 * prefetchable BAR2 (16 KiB), INTA ---- */

static struct em_pci_dev *new_dev(const char *name, uint8_t pin)
{
    const struct em_pci_dev_info info = {
        .name = name,
        .vendor = TEST_VENDOR,
        .device = TEST_DEVICE,
        .subsys_vendor = 0x1af4,
        .subsys = 0x0002,
        .class_code = 0x020000,
        .revision = 0x01,
        .intx_pin = pin,
    };
    struct em_pci_dev *d = em_pci_dev_create(bus, &info);

    ck_assert_ptr_nonnull(d);
    return d;
}

static struct em_pci_dev *plug_test_dev(const char *name, unsigned slot, unsigned fn)
{
    struct em_pci_dev *d = new_dev(name, 1);

    ck_assert_int_eq(em_pci_dev_add_bar(d, 0, 32, EM_PCI_BAR_IO, &bar_ops, &bar_seen[0]), 0);
    ck_assert_int_eq(em_pci_dev_add_bar(d, 1, 4096, EM_PCI_BAR_MEM32, &bar_ops, &bar_seen[1]), 0);
    ck_assert_int_eq(em_pci_dev_add_bar(d, 2, 16384, EM_PCI_BAR_MEM64 | EM_PCI_BAR_PREFETCH,
                                        &bar_ops, &bar_seen[2]),
                     0);
    ck_assert_int_eq(em_pci_dev_plug(d, slot, fn), 0);
    return d;
}

/* ---- tests ---- */

START_TEST(host_bridge_identity)
{
    ck_assert_uint_eq(cam_rd(0, 0, 0, 0x00, 4), EM_PCI_HOST_DEVICE << 16 | EM_PCI_HOST_VENDOR);
    ck_assert_uint_eq(cam_rd(0, 0, 0, 0x08, 4) >> 8, 0x060000);
    ck_assert_uint_eq(cam_rd(0, 0, 0, 0x0e, 1), 0x00);
    ck_assert_uint_eq(cam_rd(0, 0, 0, 0x2c, 4), 0x11001af4);
    ck_assert_uint_eq(cam_rd(0, 0, 0, 0x3d, 1), 0); /* no interrupt */
    for (unsigned reg = 0x10; reg < 0x28; reg += 4)
        ck_assert_uint_eq(cam_rd(0, 0, 0, reg, 4), 0); /* no BARs */
}
END_TEST

START_TEST(cam_address_register)
{
    pio_wr(CAM_ADDR, 0xffffffff, 4);
    ck_assert_uint_eq(pio_rd(CAM_ADDR, 4), 0x80fffffc);
    /* Byte and word accesses are not the address register. */
    pio_wr(CAM_ADDR + 3, 0x00, 1);
    pio_wr(CAM_ADDR + 2, 0x0000, 2);
    ck_assert_uint_eq(pio_rd(CAM_ADDR, 4), 0x80fffffc);
    ck_assert_uint_eq(pio_rd(CAM_ADDR, 2), 0xffff);
    ck_assert_uint_eq(pio_rd(CAM_ADDR + 3, 1), 0xff);
    /* Linux's type 1 check. */
    pio_wr(CAM_ADDR, ON, 4);
    ck_assert_uint_eq(pio_rd(CAM_ADDR, 4), ON);
}
END_TEST

START_TEST(cam_needs_enable_bit)
{
    pio_wr(CAM_ADDR, 0x00000000, 4); /* 00:00.0 register 0, not enabled */
    ck_assert_uint_eq(pio_rd(CAM_DATA, 4), 0xffffffff);
    pio_wr(CAM_ADDR, 0x0000000c, 4);
    pio_wr(CAM_DATA, 0x40, 1); /* cache line size: dropped */
    ck_assert_uint_eq(cfg_rd(0, 0x0c, 1), 0);
    cam_wr(0, 0, 0, 0x0c, 0x40, 1); /* enabled: taken */
    ck_assert_uint_eq(cfg_rd(0, 0x0c, 1), 0x40);
}
END_TEST

START_TEST(cam_and_ecam_agree)
{
    plug_test_dev("nic", TEST_SLOT, 0);
    for (unsigned d = 0; d < 8; d++) {
        for (unsigned reg = 0; reg < 0x100; reg += 4)
            ck_assert_msg(cam_rd(0, d, 0, reg, 4) == ecam_rd(0, d, 0, reg, 4),
                          "00:%02x.0 register 0x%02x differs", d, reg);
    }
    /* A write through one is read through the other. */
    cam_wr(0, TEST_SLOT, 0, 0x0c, 0x10, 1);
    ck_assert_uint_eq(ecam_rd(0, TEST_SLOT, 0, 0x0c, 1), 0x10);
    ecam_wr(0, TEST_SLOT, 0, 0x3c, 0x0b, 1);
    ck_assert_uint_eq(cam_rd(0, TEST_SLOT, 0, 0x3c, 1), 0x0b);
    /* Extended space: only through ECAM, zero for a present device. */
    ck_assert_uint_eq(ecam_rd(0, TEST_SLOT, 0, 0x100, 4), 0);
    ck_assert_uint_eq(ecam_rd(0, TEST_SLOT, 0, 0xffc, 4), 0);
}
END_TEST

START_TEST(absent_functions_all_ones)
{
    static const unsigned where[][4] = {
        { 0, 5, 0, 0x00 }, { 0, 0, 1, 0x00 },    { 0, 31, 7, 0x00 },
        { 1, 0, 0, 0x00 }, { 255, 31, 7, 0xfc }, { 0, 1, 0, 0x3c },
    };

    for (unsigned i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        const unsigned *w = where[i];

        ck_assert_uint_eq(cam_rd(w[0], w[1], w[2], w[3], 4), 0xffffffff);
        ck_assert_uint_eq(cam_rd(w[0], w[1], w[2], w[3] + 1, 1), 0xff);
        ck_assert_uint_eq(cam_rd(w[0], w[1], w[2], w[3] + 2, 2), 0xffff);
        ck_assert_uint_eq(ecam_rd(w[0], w[1], w[2], w[3], 4), 0xffffffff);
        cam_wr(w[0], w[1], w[2], w[3], 0, 4);
        ecam_wr(w[0], w[1], w[2], w[3], 0, 4);
    }
    /* Bus 1 device 0 is not 00:00.0: the host bridge saw nothing. */
    ecam_wr(1, 0, 0, 0x0c, 0x55, 1);
    ck_assert_uint_eq(cfg_rd(0, 0x0c, 1), 0);
    ck_assert_uint_eq(ecam_rd(0, 0, 0, 0ull, 4), 0x29c08086);
    ck_assert_uint_eq(ecam_rd(255, 31, 7, 0xfff, 1), 0xff);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(sub_dword_reads_at_every_offset)
{
    static const unsigned regs[] = { 0x00, 0x04, 0x08, 0x0c, 0x2c, 0x3c };

    plug_test_dev("nic", TEST_SLOT, 0);
    for (unsigned r = 0; r < sizeof(regs) / sizeof(regs[0]); r++) {
        uint32_t dw = cam_rd(0, TEST_SLOT, 0, regs[r], 4);

        for (unsigned o = 0; o < 4; o++) {
            uint32_t b = (dw >> (8 * o)) & 0xff;

            ck_assert_uint_eq(cam_rd(0, TEST_SLOT, 0, regs[r] + o, 1), b);
            ck_assert_uint_eq(ecam_rd(0, TEST_SLOT, 0, regs[r] + o, 1), b);
        }
        for (unsigned o = 0; o < 3; o++) {
            uint32_t w = (dw >> (8 * o)) & 0xffff;

            ck_assert_uint_eq(cam_rd(0, TEST_SLOT, 0, regs[r] + o, 2), w);
            ck_assert_uint_eq(ecam_rd(0, TEST_SLOT, 0, regs[r] + o, 2), w);
        }
    }
    /* A word at 0xcff would cross the data port: nobody takes it. */
    pio_wr(CAM_ADDR, cam_addr(0, TEST_SLOT, 0, 0), 4);
    ck_assert(!claimed(pio, CAM_DATA + 3, 2));
}
END_TEST

START_TEST(sub_dword_writes_respect_masks)
{
    uint32_t before;

    plug_test_dev("nic", TEST_SLOT, 0);
    /* 0x0c: cache line (writable), latency, header type, BIST (not). */
    before = cfg_rd(TEST_SLOT, 0x0c, 4);
    for (unsigned o = 0; o < 4; o++)
        cam_wr(0, TEST_SLOT, 0, 0x0c + o, 0xff, 1);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x0c, 4), (before & ~0xffu) | 0xff);
    for (unsigned o = 0; o < 3; o++)
        cam_wr(0, TEST_SLOT, 0, 0x0c + o, 0x0000, 2);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x0c, 4), before & ~0xffu);
    /* 0x3c: interrupt line (writable), pin (not). */
    cam_wr(0, TEST_SLOT, 0, 0x3c, 0xffff, 2);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x3c, 2), 0x01ff);
    /* A misaligned word through ECAM, bytes 0x3d-0x3e. */
    ecam_wr(0, TEST_SLOT, 0, 0x3d, 0x0000, 2);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x3c, 4), 0x000001ff);
}
END_TEST

START_TEST(read_only_bits_stay)
{
    struct em_pci_dev *d = plug_test_dev("nic", TEST_SLOT, 0);
    uint32_t id = cfg_rd(TEST_SLOT, 0x00, 4), cls = cfg_rd(TEST_SLOT, 0x08, 4);
    uint32_t sub = cfg_rd(TEST_SLOT, 0x2c, 4);

    cfg_wr(TEST_SLOT, 0x00, 0xffffffff, 4);
    cfg_wr(TEST_SLOT, 0x08, 0xffffffff, 4);
    cfg_wr(TEST_SLOT, 0x2c, 0xffffffff, 4);
    cfg_wr(TEST_SLOT, 0x30, 0xffffffff, 4); /* no expansion ROM */
    cfg_wr(TEST_SLOT, 0x34, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x00, 4), id);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x08, 4), cls);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x2c, 4), sub);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x30, 4), 0);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x34, 4), 0);
    /* Command: only the implemented bits. */
    cfg_wr(TEST_SLOT, 0x04, 0xffff, 2);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x04, 2), 0x0547);
    /* Status: read-only, except error bits that a 1 clears. */
    em_pci_set16(d, EM_PCI_STATUS, 0x8000);
    cfg_wr(TEST_SLOT, 0x06, 0x0000, 2);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x06, 2), 0x8000);
    cfg_wr(TEST_SLOT, 0x06, 0x8000, 2);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x06, 2), 0x0000);
    cfg_wr(TEST_SLOT, 0x06, 0x0010, 2);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x06, 2), 0x0000);
    /* Nothing beyond the header became writable either. */
    cfg_wr(TEST_SLOT, 0x80, 0xffffffff, 4);
    cfg_wr(TEST_SLOT, 0xffc, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x80, 4), 0);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0xffc, 4), 0);
}
END_TEST

START_TEST(bars_assigned_and_mapped)
{
    struct em_pci_dev *d = plug_test_dev("nic", TEST_SLOT, 0);
    uint64_t io = em_pci_bar_addr(d, 0), m32 = em_pci_bar_addr(d, 1), m64 = em_pci_bar_addr(d, 2);
    uint64_t v;
    bool stop;

    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x04, 2), EM_PCI_CMD_IO | EM_PCI_CMD_MEM);
    ck_assert_uint_ge(io, EM_PCI_IO_BASE);
    ck_assert_uint_lt(io, EM_PCI_IO_BASE + EM_PCI_IO_SIZE);
    ck_assert_uint_eq(io % 32, 0);
    ck_assert_uint_ge(m32, EM_PCI_MMIO_BASE);
    ck_assert_uint_eq(m32 % 4096, 0);
    ck_assert_uint_eq(m64 % 16384, 0);
    ck_assert_uint_lt(m64 + 16384, EM_PCI_MMIO_BASE + EM_PCI_MMIO_SIZE);
    ck_assert(m64 + 16384 <= m32 || m32 + 4096 <= m64);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x10, 4), io | 1);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x14, 4), m32);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x18, 4), m64 | 0xc);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x1c, 4), 0);
    ck_assert(em_pci_bar_mapped(d, 0) && em_pci_bar_mapped(d, 1) && em_pci_bar_mapped(d, 2));

    ck_assert(kc_bus_read(pio, io + 2, 2, &v, &stop));
    ck_assert_uint_eq(v, 0xffff & (1u << 24 | 2));
    ck_assert_uint_eq(bar_seen[0].last_offset, 2);
    ck_assert(kc_bus_read(mmio, m32 + 0x10, 4, &v, &stop));
    ck_assert_uint_eq(v, 2u << 24 | 0x10);
    ck_assert(kc_bus_write(mmio, m64 + 0x3ff8, 0x1122334455667788ull, 8, &stop));
    ck_assert_uint_eq(bar_seen[2].last_offset, 0x3ff8);
    ck_assert_uint_eq(bar_seen[2].last_value, 0x1122334455667788ull);
    ck_assert_uint_eq(bar_seen[2].last_size, 8);
    /* Past the end of a BAR is not the BAR. */
    ck_assert_uint_ne(m64, m32 + 4096);
    ck_assert(!claimed(mmio, m32 + 4096, 4));
    /* The next device's BARs do not overlap. */
    {
        struct em_pci_dev *d2 = plug_test_dev("nic2", TEST_SLOT + 1, 0);

        ck_assert(em_pci_bar_addr(d2, 0) >= io + 32 || em_pci_bar_addr(d2, 0) + 32 <= io);
        ck_assert(em_pci_bar_mapped(d2, 0) && em_pci_bar_mapped(d2, 1) && em_pci_bar_mapped(d2, 2));
    }
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(bar_sizing)
{
    struct em_pci_dev *d = plug_test_dev("nic", TEST_SLOT, 0);
    uint32_t saved[6];
    uint64_t m32 = em_pci_bar_addr(d, 1);

    cfg_wr(TEST_SLOT, 0x04, 0, 2); /* decoding off, as Linux does */
    for (unsigned i = 0; i < 6; i++) {
        saved[i] = cfg_rd(TEST_SLOT, 0x10 + 4 * i, 4);
        cfg_wr(TEST_SLOT, 0x10 + 4 * i, 0xffffffff, 4);
    }
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x10, 4), 0xffffffe1); /* 32 bytes of I/O */
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x14, 4), 0xfffff000); /* 4 KiB */
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x18, 4), 0xffffc00c); /* 16 KiB, 64-bit, prefetch */
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x1c, 4), 0xffffffff);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x20, 4), 0); /* not implemented */
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x24, 4), 0);
    for (unsigned i = 0; i < 6; i++)
        cfg_wr(TEST_SLOT, 0x10 + 4 * i, saved[i], 4);
    ck_assert(!em_pci_bar_mapped(d, 1));
    ck_assert(!claimed(mmio, m32, 4));
    cfg_wr(TEST_SLOT, 0x04, EM_PCI_CMD_IO | EM_PCI_CMD_MEM, 2);
    ck_assert(em_pci_bar_mapped(d, 1));
    ck_assert(claimed(mmio, m32, 4));
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(sizing_with_decoding_on_maps_nothing_wild)
{
    struct em_pci_dev *d = plug_test_dev("nic", TEST_SLOT, 0);
    uint32_t saved = cfg_rd(TEST_SLOT, 0x14, 4), saved_io = cfg_rd(TEST_SLOT, 0x10, 4);

    /* A careless guest sizes with decoding on: all-ones never maps. */
    cfg_wr(TEST_SLOT, 0x14, 0xffffffff, 4);
    cfg_wr(TEST_SLOT, 0x10, 0xffffffff, 4);
    ck_assert(!em_pci_bar_mapped(d, 1));
    ck_assert(!em_pci_bar_mapped(d, 0));
    ck_assert(!claimed(mmio, 0xfffff000, 4));
    ck_assert(!claimed(pio, 0xffe0, 1));
    cfg_wr(TEST_SLOT, 0x14, saved, 4);
    cfg_wr(TEST_SLOT, 0x10, saved_io, 4);
    ck_assert(em_pci_bar_mapped(d, 1) && em_pci_bar_mapped(d, 0));
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(bar_move_reregisters)
{
    struct em_pci_dev *d = plug_test_dev("nic", TEST_SLOT, 0);
    uint64_t old = em_pci_bar_addr(d, 1), old_io = em_pci_bar_addr(d, 0);
    uint64_t v;
    bool stop;

    cfg_wr(TEST_SLOT, 0x14, 0xc1000000, 4);
    ck_assert_uint_eq(em_pci_bar_addr(d, 1), 0xc1000000);
    ck_assert(!claimed(mmio, old, 4));
    ck_assert(kc_bus_read(mmio, 0xc1000ffc, 4, &v, &stop));
    ck_assert_uint_eq(v, 2u << 24 | 0xffc);
    /* Low bits of the address are the size: not settable. */
    cfg_wr(TEST_SLOT, 0x14, 0xc2000fff, 4);
    ck_assert_uint_eq(em_pci_bar_addr(d, 1), 0xc2000000);
    ck_assert(claimed(mmio, 0xc2000000, 4) && !claimed(mmio, 0xc1000000, 4));
    /* The 64-bit BAR above 4 GiB, half by half. */
    cfg_wr(TEST_SLOT, 0x1c, 0x00000008, 4);
    cfg_wr(TEST_SLOT, 0x18, 0x00004000, 4);
    ck_assert_uint_eq(em_pci_bar_addr(d, 2), 0x800004000ull);
    ck_assert(claimed(mmio, 0x800004000ull, 8));
    /* The I/O BAR. */
    cfg_wr(TEST_SLOT, 0x10, 0xd000, 4);
    ck_assert(!claimed(pio, old_io, 1));
    ck_assert(kc_bus_read(pio, 0xd01f, 1, &v, &stop));
    ck_assert_uint_eq(bar_seen[0].last_offset, 0x1f);
    /* I/O above 64 KiB does not decode. */
    cfg_wr(TEST_SLOT, 0x10, 0x10000, 4);
    ck_assert(!em_pci_bar_mapped(d, 0));
    ck_assert(!claimed(pio, 0xd000, 1));
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(command_register_toggles_decoding)
{
    struct em_pci_dev *d = plug_test_dev("nic", TEST_SLOT, 0);
    uint64_t io = em_pci_bar_addr(d, 0), m32 = em_pci_bar_addr(d, 1), m64 = em_pci_bar_addr(d, 2);

    cfg_wr(TEST_SLOT, 0x04, EM_PCI_CMD_IO, 2);
    ck_assert(claimed(pio, io, 1));
    ck_assert(!claimed(mmio, m32, 4) && !claimed(mmio, m64, 4));
    cfg_wr(TEST_SLOT, 0x04, EM_PCI_CMD_MEM, 1); /* a byte write to the low half */
    ck_assert(!claimed(pio, io, 1));
    ck_assert(claimed(mmio, m32, 4) && claimed(mmio, m64, 4));
    cfg_wr(TEST_SLOT, 0x04, 0, 4); /* and a dword write with status */
    ck_assert(!claimed(pio, io, 1) && !claimed(mmio, m32, 4) && !claimed(mmio, m64, 4));
}
END_TEST

START_TEST(overlapping_bar_refused_then_retried)
{
    struct em_pci_dev *d = plug_test_dev("nic", TEST_SLOT, 0);
    uint64_t m32 = em_pci_bar_addr(d, 1), m64 = em_pci_bar_addr(d, 2);
    uint64_t v;
    bool stop;

    /* BAR1 onto BAR2's range. */
    cfg_wr(TEST_SLOT, 0x14, (uint32_t)m64 + 0x1000, 4);
    ck_assert(!em_pci_bar_mapped(d, 1));
    ck_assert_uint_eq(cap.count, 1);
    ck_assert(log_has(&cap, "nic BAR1") && log_has(&cap, "nic BAR2"));
    ck_assert(kc_bus_read(mmio, m64 + 0x1000, 4, &v, &stop));
    ck_assert_uint_eq(v, 3u << 24 | 0x1000); /* BAR2 still answers there */
    ck_assert(!claimed(mmio, m32, 4));
    /* The guest insists: no new message. */
    cfg_wr(TEST_SLOT, 0x14, (uint32_t)m64 + 0x1000, 4);
    cfg_wr(TEST_SLOT, 0x04, 0x0007, 2);
    ck_assert_uint_eq(cap.count, 1);
    /* BAR2 moves away: BAR1 takes the place it asked for. */
    cfg_wr(TEST_SLOT, 0x18, 0xc8000000, 4);
    ck_assert(em_pci_bar_mapped(d, 1) && em_pci_bar_mapped(d, 2));
    ck_assert(kc_bus_read(mmio, m64 + 0x1000, 4, &v, &stop));
    ck_assert_uint_eq(v, 2u << 24 | 0);
    ck_assert_uint_eq(cap.count, 1);
}
END_TEST

START_TEST(bar_onto_bus_ranges_refused)
{
    struct em_pci_dev *d = plug_test_dev("nic", TEST_SLOT, 0);

    cfg_wr(TEST_SLOT, 0x14, (uint32_t)EM_PCI_ECAM_BASE + 0x8000, 4);
    ck_assert(!em_pci_bar_mapped(d, 1));
    ck_assert(log_has(&cap, "ECAM"));
    /* ECAM still serves configuration there. */
    ck_assert_uint_eq(ecam_rd(0, 1, 0, 0, 4), 0xffffffff);
    ck_assert_uint_eq(ecam_rd(0, 0, 0, 0, 2), EM_PCI_HOST_VENDOR);
    cfg_wr(TEST_SLOT, 0x10, 0xce0, 4); /* 0xce0-0xcff covers the CAM ports */
    ck_assert(!em_pci_bar_mapped(d, 0));
    ck_assert(log_has(&cap, "configuration ports"));
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x00, 2), TEST_VENDOR);
    ck_assert_uint_eq(cap.count, 2);
}
END_TEST

static uint64_t uart_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    (void)offset;
    (void)size;
    return 0x42;
}

static const struct kc_io_ops uart_ops = { .read = uart_read };

START_TEST(bar_onto_other_device_refused)
{
    struct em_pci_dev *d = plug_test_dev("nic", TEST_SLOT, 0);
    unsigned n;

    ck_assert_int_eq(kc_bus_register(pio, 0x3f8, 8, &uart_ops, NULL, "com1"), 0);
    cfg_wr(TEST_SLOT, 0x10, 0x3e0, 4); /* 0x3e0-0x3ff */
    ck_assert(!em_pci_bar_mapped(d, 0));
    ck_assert_uint_eq(pio_rd(0x3f8, 1), 0x42);
    /* The port bus reported it, naming both, once; the PCI bus adds
     * nothing. */
    ck_assert(log_has(&bus_cap, "nic BAR0") && log_has(&bus_cap, "com1"));
    n = bus_cap.count;
    ck_assert_uint_eq(n, 1);
    cfg_wr(TEST_SLOT, 0x10, 0x3e0, 4);
    cfg_wr(TEST_SLOT, 0x04, 0x0003, 2);
    cfg_wr(TEST_SLOT, 0x14, 0xc3000000, 4); /* other changes retry nothing */
    ck_assert_uint_eq(bus_cap.count, n);
    cfg_wr(TEST_SLOT, 0x10, 0x3c0, 4);
    ck_assert(em_pci_bar_mapped(d, 0));
    ck_assert_uint_eq(bus_cap.count, n);
    ck_assert_uint_eq(cap.count, 0);
    /* Back onto com1, refused; com1 goes away; turning decoding off and
     * on again tries afresh. */
    cfg_wr(TEST_SLOT, 0x10, 0x3e0, 4);
    ck_assert(!em_pci_bar_mapped(d, 0));
    ck_assert_int_eq(kc_bus_unregister(pio, 0x3f8), 0);
    cfg_wr(TEST_SLOT, 0x04, EM_PCI_CMD_MEM, 2);
    cfg_wr(TEST_SLOT, 0x04, EM_PCI_CMD_MEM | EM_PCI_CMD_IO, 2);
    ck_assert(em_pci_bar_mapped(d, 0));
    ck_assert_uint_eq(pio_rd(0x3f8, 1), 0xff & (1u << 24 | 0x18));
}
END_TEST

START_TEST(hostile_ecam_accesses)
{
    struct em_pci_dev *d = plug_test_dev("nic", TEST_SLOT, 0);
    uint64_t v;
    bool stop;

    /* A dword running past the end of the function's space. */
    ck_assert_uint_eq(ecam_rd(0, TEST_SLOT, 0, 0xffe, 4), 0xffffffff);
    ecam_wr(0, TEST_SLOT, 0, 0xffe, 0xffffffff, 4);
    ecam_wr(0, TEST_SLOT, 0, 0xfff, 0xffff, 2);
    ck_assert_uint_eq(em_pci_get8(d, 0xfff), 0);
    ck_assert_uint_eq(ecam_rd(0, TEST_SLOT, 1, 0x000, 4), 0xffffffff);
    /* 64-bit accesses: two dwords inside a space, refused across one. */
    ck_assert_uint_eq(ecam_rd(0, 0, 0, 0, 8), 0x0000000029c08086ull | (uint64_t)cfg_rd(0, 4, 4)
                                                                          << 32);
    ck_assert_uint_eq(ecam_rd(0, TEST_SLOT, 0, 0xffc, 8), ~0ull);
    ecam_wr(0, TEST_SLOT, 0, 0x18, 0x0000000900008000ull, 8);
    ck_assert_uint_eq(em_pci_bar_addr(d, 2), 0x900008000ull);
    ck_assert(claimed(mmio, 0x900008000ull, 4));
    ecam_wr(0, TEST_SLOT, 0, 0xffc, ~0ull, 8);
    ck_assert_uint_eq(em_pci_get32(d, 0xffc), 0);
    /* The window's last byte, and one past it. */
    ck_assert_uint_eq(ecam_rd(255, 31, 7, 0xfff, 1), 0xff);
    ck_assert(!kc_bus_read(mmio, EM_PCI_ECAM_BASE + EM_PCI_ECAM_SIZE, 1, &v, &stop));
    ck_assert(!kc_bus_read(mmio, EM_PCI_ECAM_BASE + EM_PCI_ECAM_SIZE - 2, 4, &v, &stop));
    /* The front ends refuse odd sizes themselves too. */
    ck_assert_uint_eq(em_pci_config_read(bus, 0, TEST_SLOT, 0, 0, 3), 0xffffffff);
    ck_assert_uint_eq(em_pci_config_read(bus, 0, TEST_SLOT, 0, 0x1000, 1), 0xff);
    ck_assert_uint_eq(em_pci_config_read(bus, 0, 32, 0, 0, 4), 0xffffffff);
    ck_assert_uint_eq(em_pci_config_read(bus, 0, 0, 8, 0, 4), 0xffffffff);
    ck_assert_uint_eq(em_pci_config_read(bus, 256, 0, 0, 0, 4), 0xffffffff);
    em_pci_config_write(bus, 0, TEST_SLOT, 0, 0xfff, 0xffffffff, 4);
    em_pci_config_write(bus, 0, TEST_SLOT, 0, 0x0c, 0xffffffff, 3);
    em_pci_config_write(bus, 0, 0xffffffffu, 0, 0x0c, 0xff, 1);
    ck_assert_uint_eq(em_pci_get8(d, 0x0c), 0);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(capabilities)
{
    struct em_pci_dev *d = new_dev("virtio", 1);
    int a = em_pci_dev_add_cap(d, 0x09, 16), b = em_pci_dev_add_cap(d, 0x11, 12);
    int c = em_pci_dev_add_cap(d, 0x09, 5);

    ck_assert_int_eq(a, 0x40);
    ck_assert_int_eq(b, 0x50);
    ck_assert_int_eq(c, 0x5c);
    ck_assert_int_eq(em_pci_dev_find_cap(d, 0x11), 0x50);
    ck_assert_int_eq(em_pci_dev_find_cap(d, 0x09), 0x40);
    ck_assert_int_eq(em_pci_dev_find_cap(d, 0x05), -ENOENT);
    em_pci_set8(d, (unsigned)a + 2, 0x33);
    em_pci_set_wmask8(d, (unsigned)b + 3, 0xf0);
    ck_assert_int_eq(em_pci_dev_plug(d, TEST_SLOT, 0), 0);
    /* As a guest walks it. */
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x06, 2) & EM_PCI_STATUS_CAP_LIST, EM_PCI_STATUS_CAP_LIST);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x34, 1), 0x40);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x40, 4), 0x00335009);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x50, 2), 0x5c11);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x5c, 2), 0x0009);
    /* Headers are read-only; the opened bits are not. */
    cfg_wr(TEST_SLOT, 0x50, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x50, 4), 0xf0005c11);
    /* After plugging, no more capabilities. */
    ck_assert_int_eq(em_pci_dev_add_cap(d, 0x05, 8), -EINVAL);
    ck_assert(log_has(&cap, "already plugged"));
}
END_TEST

START_TEST(capability_space_full)
{
    struct em_pci_dev *d = new_dev("big", 0);

    ck_assert_int_eq(em_pci_dev_add_cap(d, 0x09, 0xb0), 0x40);
    ck_assert_int_eq(em_pci_dev_add_cap(d, 0x09, 0x10), 0xf0);
    ck_assert_uint_eq(cap.count, 0);
    ck_assert_int_eq(em_pci_dev_add_cap(d, 0x09, 4), -ENOSPC);
    ck_assert_uint_eq(cap.count, 1);
    ck_assert(log_has(&cap, "big") && log_has(&cap, "does not fit"));
    ck_assert_int_eq(em_pci_dev_add_cap(d, 0x09, 1), -EINVAL);
    /* The list is intact: two entries. */
    ck_assert_uint_eq(em_pci_get8(d, 0x41), 0xf0);
    ck_assert_uint_eq(em_pci_get8(d, 0xf1), 0x00);
    em_pci_dev_destroy(d);
}
END_TEST

START_TEST(intx_shared_and_maskable)
{
    struct em_pci_dev *a = plug_test_dev("a", 3, 0);
    struct em_pci_dev *b = plug_test_dev("b", 7, 0); /* (7 + 0) % 4 == (3 + 0) % 4 */
    struct em_pci_dev *c = plug_test_dev("c", 4, 0);
    unsigned gsi = EM_PCI_GSI(3, 0);

    ck_assert_int_eq(em_pci_dev_gsi(a), (int)gsi);
    ck_assert_int_eq(em_pci_dev_gsi(b), (int)gsi);
    ck_assert_int_eq(em_pci_dev_gsi(c), EM_PCI_GSI(4, 0));
    ck_assert_uint_eq(cfg_rd(3, 0x3c, 2), 0x0100 | gsi);
    ck_assert_uint_eq(cfg_rd(4, 0x3c, 1), EM_PCI_GSI(4, 0));

    em_pci_set_irq(a, 1);
    ck_assert_int_eq(gsi_level[gsi], 1);
    em_pci_set_irq(a, 1); /* idempotent */
    em_pci_set_irq(b, 1);
    ck_assert_uint_eq(gsi_calls[gsi], 1);
    em_pci_set_irq(a, 0);
    ck_assert_int_eq(gsi_level[gsi], 1); /* b still asserts */
    em_pci_set_irq(b, 0);
    ck_assert_int_eq(gsi_level[gsi], 0);
    ck_assert_uint_eq(gsi_calls[gsi], 2);
    ck_assert_uint_eq(gsi_calls[EM_PCI_GSI(4, 0)], 0);

    /* INTx disable masks the line; the status bit still shows it. */
    em_pci_set_irq(a, 1);
    cfg_wr(3, 0x04, 0x0403, 2);
    ck_assert_int_eq(gsi_level[gsi], 0);
    ck_assert_uint_eq(cfg_rd(3, 0x06, 2) & EM_PCI_STATUS_INTERRUPT, EM_PCI_STATUS_INTERRUPT);
    cfg_wr(3, 0x04, 0x0003, 2);
    ck_assert_int_eq(gsi_level[gsi], 1);
    em_pci_set_irq(a, 0);
    ck_assert_uint_eq(cfg_rd(3, 0x06, 2) & EM_PCI_STATUS_INTERRUPT, 0);
    ck_assert_int_eq(gsi_level[gsi], 0);

    /* A device unplugged while asserting lets go of the line. */
    em_pci_set_irq(c, 1);
    ck_assert_int_eq(gsi_level[EM_PCI_GSI(4, 0)], 1);
    em_pci_dev_destroy(c);
    ck_assert_int_eq(gsi_level[EM_PCI_GSI(4, 0)], 0);
}
END_TEST

START_TEST(multifunction)
{
    plug_test_dev("f0", TEST_SLOT, 0);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x0e, 1), 0x00);
    ck_assert_uint_eq(ecam_rd(0, TEST_SLOT, 1, 0, 4), 0xffffffff);
    {
        struct em_pci_dev *d = new_dev("f1", 2);

        ck_assert_int_eq(em_pci_dev_plug(d, TEST_SLOT, 1), 0);
        ck_assert_int_eq(em_pci_dev_gsi(d), EM_PCI_GSI(TEST_SLOT, 1));
    }
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x0e, 1), EM_PCI_HEADER_MULTIFUNCTION);
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0x0c, 4) >> 16, EM_PCI_HEADER_MULTIFUNCTION);
    ck_assert_uint_eq(ecam_rd(0, TEST_SLOT, 1, 0x0e, 1), 0x00);
    ck_assert_uint_eq(ecam_rd(0, TEST_SLOT, 1, 0, 2), TEST_VENDOR);
    ck_assert_uint_eq(ecam_rd(0, TEST_SLOT, 2, 0, 4), 0xffffffff);
}
END_TEST

START_TEST(plug_and_bar_errors)
{
    struct em_pci_dev *d = new_dev("bad", 1);
    static const struct {
        unsigned index;
        uint64_t size;
        unsigned flags;
        const char *why;
    } bad[] = {
        { 6, 4096, 0, "0-5" },
        { 0, 3000, 0, "power of two" },
        { 0, 8, 0, "at least 16" },
        { 0, 512, EM_PCI_BAR_IO, "4 to 256" },
        { 0, 2, EM_PCI_BAR_IO, "4 to 256" },
        { 5, 4096, EM_PCI_BAR_MEM64, "next BAR" },
        { 0, 32, EM_PCI_BAR_IO | EM_PCI_BAR_MEM64, "neither" },
        { 0, 4096, 0x80, "unknown flags" },
        { 0, 1ull << 32, 0, "at most 2 GiB" },
    };
    struct em_pci_dev_info info = { .name = "pin5", .intx_pin = 5 };

    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        log_capture_init(&cap);
        ck_assert_int_eq(
            em_pci_dev_add_bar(d, bad[i].index, bad[i].size, bad[i].flags, &bar_ops, NULL),
            -EINVAL);
        ck_assert_msg(cap.count == 1 && log_has(&cap, bad[i].why) && log_has(&cap, "bad"),
                      "case %u: %s", i, cap.text);
    }
    log_capture_init(&cap);
    ck_assert_int_eq(em_pci_dev_add_bar(d, 0, 4096, 0, NULL, NULL), -EINVAL);
    ck_assert_int_eq(em_pci_dev_add_bar(d, 1, 4096, EM_PCI_BAR_MEM64, &bar_ops, NULL), 0);
    ck_assert_int_eq(em_pci_dev_add_bar(d, 2, 4096, 0, &bar_ops, NULL), -EINVAL); /* upper half */
    ck_assert_int_eq(em_pci_dev_add_bar(d, 0, 4096, EM_PCI_BAR_MEM64, &bar_ops, NULL), -EINVAL);
    ck_assert(log_has(&cap, "already in use"));

    log_capture_init(&cap);
    ck_assert_int_eq(em_pci_dev_plug(d, 0, 0), -EBUSY);
    ck_assert(log_has(&cap, "host-bridge"));
    ck_assert_int_eq(em_pci_dev_plug(d, 32, 0), -EINVAL);
    ck_assert_int_eq(em_pci_dev_plug(d, 1, 8), -EINVAL);
    ck_assert_uint_eq(cap.count, 3);
    ck_assert_int_eq(em_pci_dev_plug(d, 1, 0), 0);
    ck_assert_int_eq(em_pci_dev_plug(d, 2, 0), -EBUSY);
    ck_assert(log_has(&cap, "already plugged"));
    ck_assert_int_eq(em_pci_dev_add_bar(d, 4, 4096, 0, &bar_ops, NULL), -EINVAL);

    log_capture_init(&cap);
    ck_assert_ptr_null(em_pci_dev_create(bus, &info));
    ck_assert(log_has(&cap, "pin5") && log_has(&cap, "interrupt pin 5"));
}
END_TEST

START_TEST(window_full_takes_nothing)
{
    struct em_pci_dev *first = plug_test_dev("first", 1, 0);
    struct em_pci_dev *huge = new_dev("huge", 0);
    struct em_pci_dev *next;

    /* 512 MiB needs 512 MiB alignment: past the window once it is used. */
    ck_assert_int_eq(
        em_pci_dev_add_bar(huge, 0, EM_PCI_MMIO_SIZE, EM_PCI_BAR_MEM64, &bar_ops, NULL), 0);
    ck_assert_int_eq(em_pci_dev_plug(huge, 2, 0), -ENOSPC);
    ck_assert(log_has(&cap, "huge") && log_has(&cap, "no room for BAR0"));
    ck_assert_uint_eq(ecam_rd(0, 2, 0, 0, 4), 0xffffffff);
    em_pci_dev_destroy(huge);
    next = plug_test_dev("next", 2, 0);
    /* Allocation went on where it was. */
    ck_assert_uint_eq(em_pci_bar_addr(next, 1), em_pci_bar_addr(first, 1) + 0x8000);
    ck_assert_int_eq(em_pci_bus_free_slot(bus), 3);
}
END_TEST

START_TEST(free_slots_run_out)
{
    for (unsigned s = 1; s < EM_PCI_SLOTS; s++) {
        struct em_pci_dev *d = new_dev("filler", 0);

        ck_assert_int_eq(em_pci_bus_free_slot(bus), (int)s);
        ck_assert_int_eq(em_pci_dev_plug(d, s, 0), 0);
    }
    ck_assert_int_eq(em_pci_bus_free_slot(bus), -ENOSPC);
    ck_assert(log_has(&cap, "slots are in use"));
}
END_TEST

START_TEST(reset_restores_plug_state)
{
    struct em_pci_dev *d = plug_test_dev("nic", TEST_SLOT, 0);
    uint64_t m32 = em_pci_bar_addr(d, 1);
    uint8_t before[256];

    for (unsigned i = 0; i < 256; i++)
        before[i] = (uint8_t)cfg_rd(TEST_SLOT, i, 1);
    cfg_wr(TEST_SLOT, 0x14, 0xc5000000, 4);
    cfg_wr(TEST_SLOT, 0x04, 0x0406, 2);
    cfg_wr(TEST_SLOT, 0x0c, 0x20, 1);
    cfg_wr(0, 0x0c, 0x20, 1);
    em_pci_set_irq(d, 1);
    cfg_wr(TEST_SLOT, 0x04, 0x0003, 2);
    ck_assert_int_eq(gsi_level[EM_PCI_GSI(TEST_SLOT, 0)], 1);
    pio_wr(CAM_ADDR, 0x8000abcc, 4);

    em_pci_bus_reset(bus);
    for (unsigned i = 0; i < 256; i++)
        ck_assert_msg(cfg_rd(TEST_SLOT, i, 1) == before[i], "byte 0x%02x", i);
    ck_assert_uint_eq(cfg_rd(0, 0x0c, 1), 0);
    ck_assert_uint_eq(em_pci_bar_addr(d, 1), m32);
    ck_assert(claimed(mmio, m32, 4) && !claimed(mmio, 0xc5000000, 4));
    ck_assert_int_eq(gsi_level[EM_PCI_GSI(TEST_SLOT, 0)], 0);
    ck_assert_uint_eq(pio_rd(CAM_ADDR, 4), 0);
}
END_TEST

START_TEST(reset_control_register)
{
    pio_wr(EM_RESET_PORT, 0x02, 1);
    ck_assert_uint_eq(reset_requests, 0);
    ck_assert_uint_eq(pio_rd(EM_RESET_PORT, 1), 0x02);
    pio_wr(EM_RESET_PORT, 0x06, 1);
    ck_assert_uint_eq(reset_requests, 1);
    ck_assert_uint_eq(pio_rd(EM_RESET_PORT, 1), 0x02); /* RST_CPU does not stick */
    pio_wr(EM_RESET_PORT, 0x0e, 1);
    ck_assert_uint_eq(reset_requests, 2);
    /* A dword write to 0xcf8 with bit 10 set is an address, not a reset. */
    pio_wr(CAM_ADDR, 0x80000400, 4);
    ck_assert_uint_eq(reset_requests, 2);
}
END_TEST

static unsigned hook_writes;
static unsigned hook_last_offset, hook_last_size;
static uint32_t hook_last_value;

static void hook_write(void *opaque, struct em_pci_dev *d, unsigned offset, uint32_t value,
                       unsigned size)
{
    (void)opaque;
    hook_writes++;
    hook_last_offset = offset;
    hook_last_value = value;
    hook_last_size = size;
    /* Hooks may call back into the bus (the lock is recursive). */
    em_pci_set_irq(d, value == 0x5a);
}

static uint32_t hook_read(void *opaque, struct em_pci_dev *d, unsigned offset, unsigned size,
                          uint32_t value)
{
    (void)opaque;
    (void)d;
    if (offset == 0x44 && size == 4)
        return 0xfeedf00d;
    return value;
}

static const struct em_pci_dev_ops hook_ops = { .config_write = hook_write,
                                                .config_read = hook_read };

START_TEST(device_hooks)
{
    const struct em_pci_dev_info info = {
        .name = "hooked",
        .vendor = 0x1234,
        .device = 0x5678,
        .intx_pin = 1,
        .ops = &hook_ops,
    };
    struct em_pci_dev *d = em_pci_dev_create(bus, &info);

    hook_writes = 0;
    ck_assert_int_eq(em_pci_dev_plug(d, 9, 0), 0);
    cfg_wr(9, 0x40, 0x5a, 1);
    ck_assert_uint_eq(hook_writes, 1);
    ck_assert_uint_eq(hook_last_offset, 0x40);
    ck_assert_uint_eq(hook_last_value, 0x5a);
    ck_assert_uint_eq(hook_last_size, 1);
    ck_assert_int_eq(gsi_level[EM_PCI_GSI(9, 0)], 1);
    ck_assert_uint_eq(cfg_rd(9, 0x44, 4), 0xfeedf00d);
    ck_assert_uint_eq(cfg_rd(9, 0x44, 2), 0);
    ck_assert_uint_eq(cfg_rd(9, 0x00, 4), 0x56781234);
    /* Absent functions call no hook. */
    ecam_wr(0, 9, 1, 0x40, 0x11, 1);
    ck_assert_uint_eq(hook_writes, 1);
}
END_TEST

START_TEST(unplug_releases_everything)
{
    struct em_pci_dev *d = plug_test_dev("nic", TEST_SLOT, 0);
    uint64_t io = em_pci_bar_addr(d, 0), m32 = em_pci_bar_addr(d, 1);

    ck_assert_ptr_eq(em_pci_bus_dev(bus, TEST_SLOT, 0), d);
    em_pci_dev_destroy(d);
    ck_assert_ptr_null(em_pci_bus_dev(bus, TEST_SLOT, 0));
    ck_assert(!claimed(pio, io, 1) && !claimed(mmio, m32, 4));
    ck_assert_uint_eq(cfg_rd(TEST_SLOT, 0, 4), 0xffffffff);
    ck_assert_ptr_null(em_pci_bus_dev(bus, 99, 0));
    em_pci_dev_destroy(NULL);
    plug_test_dev("nic-again", TEST_SLOT, 0);
}
END_TEST

START_TEST(bus_destroy_releases_ranges)
{
    plug_test_dev("nic", TEST_SLOT, 0);
    em_pci_bus_destroy(bus);
    bus = NULL;
    ck_assert_int_eq(kc_bus_register(pio, CAM_ADDR, 8, &uart_ops, NULL, "x"), 0);
    ck_assert_int_eq(
        kc_bus_register(mmio, EM_PCI_ECAM_BASE, EM_PCI_MMIO_SIZE, &uart_ops, NULL, "y"), 0);
    ck_assert_int_eq(
        kc_bus_register(mmio, EM_PCI_MMIO_BASE, EM_PCI_MMIO_SIZE, &uart_ops, NULL, "z"), 0);
    ck_assert_int_eq(kc_bus_register(pio, EM_PCI_IO_BASE, EM_PCI_IO_SIZE, &uart_ops, NULL, "w"), 0);
    em_pci_bus_destroy(NULL);
}
END_TEST

START_TEST(create_conflict_unwinds)
{
    struct kc_bus *p2 = kc_bus_create(KC_BUS_PIO, &cap.logger);
    struct kc_bus *m2 = kc_bus_create(KC_BUS_MMIO, &cap.logger);
    struct em_pci_bus_config cfg = { .pio = p2, .mmio = m2, .log = &cap.logger };

    ck_assert_int_eq(kc_bus_register(m2, EM_PCI_ECAM_BASE + 0x1000, 4, &uart_ops, NULL, "squat"),
                     0);
    errno = 0;
    ck_assert_ptr_null(em_pci_bus_create(&cfg));
    ck_assert_int_eq(errno, EEXIST);
    ck_assert_uint_eq(cap.count, 1);
    ck_assert(log_has(&cap, "pci-ecam") && log_has(&cap, "squat"));
    /* The ports it had taken are free again. */
    ck_assert_int_eq(kc_bus_register(p2, CAM_ADDR, 8, &uart_ops, NULL, "x"), 0);
    kc_bus_destroy(p2);
    kc_bus_destroy(m2);
}
END_TEST

/* ---- the bar_mapped hook ---- */

struct bar_event {
    unsigned index;
    uint64_t addr;
    bool mapped;
};

static struct bar_event events[64];
static unsigned nr_events;

static void on_bar_mapped(void *opaque, struct em_pci_dev *d, unsigned index, uint64_t addr,
                          bool mapped)
{
    (void)opaque;
    /* The hook runs with the bus lock held: the bus's view agrees. */
    ck_assert(em_pci_bar_mapped(d, index) == mapped);
    ck_assert_uint_lt(nr_events, 64);
    events[nr_events++] = (struct bar_event){ index, addr, mapped };
}

static const struct em_pci_dev_ops mapped_ops = { .bar_mapped = on_bar_mapped };

static bool saw(unsigned index, uint64_t addr, bool mapped)
{
    for (unsigned i = 0; i < nr_events; i++)
        if (events[i].index == index && events[i].addr == addr && events[i].mapped == mapped)
            return true;
    return false;
}

START_TEST(bar_mapped_hook_follows_the_bar)
{
    const struct em_pci_dev_info info = {
        .name = "watched", .vendor = TEST_VENDOR, .device = TEST_DEVICE, .ops = &mapped_ops
    };
    struct em_pci_dev *d = em_pci_dev_create(bus, &info);
    uint64_t io, m32, m64;

    nr_events = 0;
    ck_assert_int_eq(em_pci_dev_add_bar(d, 0, 32, EM_PCI_BAR_IO, &bar_ops, &bar_seen[0]), 0);
    ck_assert_int_eq(em_pci_dev_add_bar(d, 1, 4096, EM_PCI_BAR_MEM32, &bar_ops, &bar_seen[1]), 0);
    ck_assert_int_eq(em_pci_dev_add_bar(d, 2, 16384, EM_PCI_BAR_MEM64, &bar_ops, &bar_seen[2]), 0);
    ck_assert_uint_eq(nr_events, 0);
    ck_assert_int_eq(em_pci_dev_plug(d, TEST_SLOT, 0), 0);
    io = em_pci_bar_addr(d, 0);
    m32 = em_pci_bar_addr(d, 1);
    m64 = em_pci_bar_addr(d, 2);
    ck_assert_uint_eq(nr_events, 3);
    ck_assert(saw(0, io, true) && saw(1, m32, true) && saw(2, m64, true));

    /* Moved: unmapped where it was, mapped where it is. */
    nr_events = 0;
    cfg_wr(TEST_SLOT, EM_PCI_BAR0 + 4, 0xd0000000, 4);
    ck_assert_uint_eq(nr_events, 2);
    ck_assert(events[0].index == 1 && events[0].addr == m32 && !events[0].mapped);
    ck_assert(events[1].index == 1 && events[1].addr == 0xd0000000 && events[1].mapped);
    /* Rewriting the same address changes nothing. */
    cfg_wr(TEST_SLOT, EM_PCI_BAR0 + 4, 0xd0000000, 4);
    ck_assert_uint_eq(nr_events, 2);

    /* Memory decoding off and on: both memory BARs, not the I/O one. */
    nr_events = 0;
    cfg_wr(TEST_SLOT, EM_PCI_COMMAND, EM_PCI_CMD_IO, 2);
    ck_assert_uint_eq(nr_events, 2);
    ck_assert(saw(1, 0xd0000000, false) && saw(2, m64, false));
    cfg_wr(TEST_SLOT, EM_PCI_COMMAND, EM_PCI_CMD_IO | EM_PCI_CMD_MEM, 2);
    ck_assert_uint_eq(nr_events, 4);
    ck_assert(saw(1, 0xd0000000, true) && saw(2, m64, true));

    /* Onto the ECAM window: refused, so only the unmap is told. */
    nr_events = 0;
    cfg_wr(TEST_SLOT, EM_PCI_BAR0 + 4, (uint32_t)EM_PCI_ECAM_BASE, 4);
    ck_assert_uint_eq(nr_events, 1);
    ck_assert(saw(1, 0xd0000000, false));

    /* Reset: back where the bus put it. */
    nr_events = 0;
    em_pci_bus_reset(bus);
    ck_assert_uint_eq(nr_events, 1);
    ck_assert(saw(1, m32, true));

    /* Unplug: every mapped BAR is unmapped. */
    nr_events = 0;
    em_pci_dev_destroy(d);
    ck_assert_uint_eq(nr_events, 3);
    ck_assert(saw(0, io, false) && saw(1, m32, false) && saw(2, m64, false));
}
END_TEST

/* ---- configuration hooks run without the bus lock ---- */

/*
 * A device takes its own lock in a configuration hook, and holds that
 * lock while it drives INTx (which takes the bus lock): the lock order a
 * device with an interrupt status register has. Were the hook called with
 * the bus lock held, the two threads below would deadlock.
 */
static pthread_mutex_t dev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t step_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t step_cond = PTHREAD_COND_INITIALIZER;
static bool has_dev_lock;
static unsigned locked_hooks;

static void locking_write(void *opaque, struct em_pci_dev *d, unsigned offset, uint32_t value,
                          unsigned size)
{
    (void)opaque;
    (void)offset;
    (void)value;
    (void)size;
    pthread_mutex_lock(&dev_lock);
    locked_hooks++;
    /* The bus lock is there for the device to take when it needs it. */
    em_pci_dev_lock(d);
    em_pci_dev_lock(d);
    em_pci_set8(d, 0x40, (uint8_t)locked_hooks);
    em_pci_dev_unlock(d);
    em_pci_dev_unlock(d);
    pthread_mutex_unlock(&dev_lock);
}

static uint32_t locking_read(void *opaque, struct em_pci_dev *d, unsigned offset, unsigned size,
                             uint32_t value)
{
    (void)opaque;
    (void)d;
    (void)offset;
    (void)size;
    pthread_mutex_lock(&dev_lock);
    locked_hooks++;
    pthread_mutex_unlock(&dev_lock);
    return value;
}

static const struct em_pci_dev_ops locking_ops = { .config_write = locking_write,
                                                   .config_read = locking_read };

static void *interrupting_thread(void *arg)
{
    struct em_pci_dev *d = arg;

    pthread_mutex_lock(&dev_lock);
    pthread_mutex_lock(&step_lock);
    has_dev_lock = true;
    pthread_cond_signal(&step_cond);
    pthread_mutex_unlock(&step_lock);
    /* Let the other thread enter its configuration access and hook. */
    usleep(50000);
    em_pci_set_irq(d, 1);
    pthread_mutex_unlock(&dev_lock);
    return NULL;
}

static void race_hook_against_interrupt(struct em_pci_dev *d, bool write)
{
    pthread_t t;

    has_dev_lock = false;
    ck_assert_int_eq(pthread_create(&t, NULL, interrupting_thread, d), 0);
    pthread_mutex_lock(&step_lock);
    while (!has_dev_lock)
        pthread_cond_wait(&step_cond, &step_lock);
    pthread_mutex_unlock(&step_lock);
    if (write)
        cfg_wr(TEST_SLOT, 0x40, 0, 1);
    else
        cfg_rd(TEST_SLOT, 0x40, 1);
    pthread_join(t, NULL);
}

START_TEST(config_hooks_run_without_the_bus_lock)
{
    const struct em_pci_dev_info info = { .name = "locking",
                                          .vendor = TEST_VENDOR,
                                          .device = TEST_DEVICE,
                                          .intx_pin = 1,
                                          .ops = &locking_ops };
    struct em_pci_dev *d = em_pci_dev_create(bus, &info);

    locked_hooks = 0;
    ck_assert_int_eq(em_pci_dev_plug(d, TEST_SLOT, 0), 0);
    race_hook_against_interrupt(d, true);
    ck_assert_uint_eq(locked_hooks, 1);
    ck_assert_uint_eq(em_pci_get8(d, 0x40), 1);
    ck_assert_int_eq(gsi_level[EM_PCI_GSI(TEST_SLOT, 0)], 1);
    em_pci_set_irq(d, 0);
    race_hook_against_interrupt(d, false);
    ck_assert_uint_eq(locked_hooks, 2);
    ck_assert_int_eq(gsi_level[EM_PCI_GSI(TEST_SLOT, 0)], 1);
}
END_TEST

/* ---- the accelerator's hooks ---- */

static unsigned accel_calls;
static void *accel_seen_opaque;

static int fake_msi(void *opaque, uint64_t addr, uint32_t data)
{
    accel_seen_opaque = opaque;
    accel_calls++;
    return addr == 0xfee00000 && data == 0x31 ? 0 : -EINVAL;
}

static int fake_ioeventfd(void *opaque, uint64_t addr, unsigned len, int fd, bool assign)
{
    accel_seen_opaque = opaque;
    accel_calls++;
    return addr == 0x1000 && len == 2 && fd == 7 && assign ? 0 : -EINVAL;
}

/* No irqfd hooks: each call must say so, not crash. */
static const struct em_pci_accel_ops fake_accel = { .msi = fake_msi, .ioeventfd = fake_ioeventfd };

START_TEST(accelerator_hooks)
{
    struct em_pci_dev *d = plug_test_dev("plain", TEST_SLOT, 0);
    struct kc_bus *p2 = kc_bus_create(KC_BUS_PIO, &bus_cap.logger);
    struct kc_bus *m2 = kc_bus_create(KC_BUS_MMIO, &bus_cap.logger);
    struct em_pci_bus_config cfg = { .pio = p2,
                                     .mmio = m2,
                                     .log = &cap.logger,
                                     .accel = &fake_accel,
                                     .accel_opaque = &accel_calls };
    struct em_pci_bus *b2;
    struct em_pci_dev *d2;

    /* A bus without an accelerator: everything is -ENOTSUP. */
    ck_assert_int_eq(em_pci_msi_signal(d, 0xfee00000, 0x31), -ENOTSUP);
    ck_assert_int_eq(em_pci_msi_irqfd_add(d, 7, 0xfee00000, 0x31), -ENOTSUP);
    ck_assert_int_eq(em_pci_msi_irqfd_update(d, 0, 0xfee00000, 0x31), -ENOTSUP);
    em_pci_msi_irqfd_remove(d, 0, 7);
    ck_assert_int_eq(em_pci_ioeventfd(d, 0x1000, 2, 7, true), -ENOTSUP);

    /* With one: calls and results pass through, with its opaque. */
    b2 = em_pci_bus_create(&cfg);
    ck_assert_ptr_nonnull(b2);
    d2 = em_pci_dev_create(b2, &(struct em_pci_dev_info){ .name = "accelerated" });
    ck_assert_ptr_nonnull(d2);
    accel_calls = 0;
    ck_assert_int_eq(em_pci_msi_signal(d2, 0xfee00000, 0x31), 0);
    ck_assert_int_eq(em_pci_msi_signal(d2, 0xfee00000, 0x32), -EINVAL);
    ck_assert_int_eq(em_pci_ioeventfd(d2, 0x1000, 2, 7, true), 0);
    ck_assert_int_eq(em_pci_ioeventfd(d2, 0x1000, 4, 7, true), -EINVAL);
    ck_assert_uint_eq(accel_calls, 4);
    ck_assert_ptr_eq(accel_seen_opaque, &accel_calls);
    ck_assert_int_eq(em_pci_msi_irqfd_add(d2, 7, 0xfee00000, 0x31), -ENOTSUP);
    ck_assert_int_eq(em_pci_msi_irqfd_update(d2, 0, 0xfee00000, 0x31), -ENOTSUP);
    em_pci_msi_irqfd_remove(d2, 0, 7);
    ck_assert_uint_eq(accel_calls, 4);
    em_pci_dev_destroy(d2);
    em_pci_bus_destroy(b2);
    kc_bus_destroy(p2);
    kc_bus_destroy(m2);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_pci");
    TCase *tc = tcase_create("pci");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, host_bridge_identity);
    tcase_add_test(tc, cam_address_register);
    tcase_add_test(tc, cam_needs_enable_bit);
    tcase_add_test(tc, cam_and_ecam_agree);
    tcase_add_test(tc, absent_functions_all_ones);
    tcase_add_test(tc, sub_dword_reads_at_every_offset);
    tcase_add_test(tc, sub_dword_writes_respect_masks);
    tcase_add_test(tc, read_only_bits_stay);
    tcase_add_test(tc, bars_assigned_and_mapped);
    tcase_add_test(tc, bar_sizing);
    tcase_add_test(tc, sizing_with_decoding_on_maps_nothing_wild);
    tcase_add_test(tc, bar_move_reregisters);
    tcase_add_test(tc, command_register_toggles_decoding);
    tcase_add_test(tc, overlapping_bar_refused_then_retried);
    tcase_add_test(tc, bar_onto_bus_ranges_refused);
    tcase_add_test(tc, bar_onto_other_device_refused);
    tcase_add_test(tc, hostile_ecam_accesses);
    tcase_add_test(tc, capabilities);
    tcase_add_test(tc, capability_space_full);
    tcase_add_test(tc, intx_shared_and_maskable);
    tcase_add_test(tc, multifunction);
    tcase_add_test(tc, plug_and_bar_errors);
    tcase_add_test(tc, window_full_takes_nothing);
    tcase_add_test(tc, free_slots_run_out);
    tcase_add_test(tc, reset_restores_plug_state);
    tcase_add_test(tc, reset_control_register);
    tcase_add_test(tc, device_hooks);
    tcase_add_test(tc, unplug_releases_everything);
    tcase_add_test(tc, bus_destroy_releases_ranges);
    tcase_add_test(tc, create_conflict_unwinds);
    tcase_add_test(tc, bar_mapped_hook_follows_the_bar);
    tcase_add_test(tc, config_hooks_run_without_the_bus_lock);
    tcase_add_test(tc, accelerator_hooks);
    suite_add_tcase(s, tc);
    return s;
}

const bool test_needs_kvm = false;
