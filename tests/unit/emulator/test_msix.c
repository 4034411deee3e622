/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The MSI-X model on a bare PCI function, without virtio: the capability
 * and BAR layout, masking and pending bits, the function mask and enable,
 * delivery by direct MSI or by irqfd (created at first use, its route
 * rewritten when the entry changed, removed at destroy, and direct MSIs
 * when the accelerator refuses), reset, and concurrent notification while
 * the guest toggles masks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pci/msix.h"
#include "pci/pci.h"
#include "testutil.h"

const bool test_needs_kvm = false;

#define SLOT    3
#define BAR     2
#define NVEC    5
#define ADDR(v) (0xfee00000u | (v) << 12)
#define DATA(v) (0x40u + (v))

static struct log_capture cap;
static struct kc_bus *pio, *mmio;
static struct em_pci_bus *bus;
static struct em_pci_dev *dev;
static struct em_msix *msix;

/* What the accelerator saw. */
static pthread_mutex_t acc_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned msis;
static uint64_t last_addr;
static uint32_t last_data;
static bool irqfd_offered, irqfd_add_fails, irqfd_update_fails;
static unsigned irqfd_adds, irqfd_updates, irqfd_removes;
static int irqfd_fd = -1, removed_fd = -1, removed_handle = -1;
static uint64_t route_addr;
static uint32_t route_data;

static int acc_msi(void *opaque, uint64_t addr, uint32_t data)
{
    (void)opaque;
    pthread_mutex_lock(&acc_lock);
    msis++;
    last_addr = addr;
    last_data = data;
    pthread_mutex_unlock(&acc_lock);
    return 0;
}

static int acc_irqfd_add(void *opaque, int fd, uint64_t addr, uint32_t data)
{
    (void)opaque;
    if (!irqfd_offered)
        return -ENOTSUP;
    irqfd_adds++;
    if (irqfd_add_fails)
        return -ENOSPC;
    irqfd_fd = fd;
    route_addr = addr;
    route_data = data;
    return 77;
}

static int acc_irqfd_update(void *opaque, int handle, uint64_t addr, uint32_t data)
{
    (void)opaque;
    ck_assert_int_eq(handle, 77);
    irqfd_updates++;
    if (irqfd_update_fails)
        return -EIO;
    route_addr = addr;
    route_data = data;
    return 0;
}

static void acc_irqfd_remove(void *opaque, int handle, int fd)
{
    (void)opaque;
    irqfd_removes++;
    removed_handle = handle;
    removed_fd = fd;
}

static const struct em_pci_accel_ops accel = {
    .msi = acc_msi,
    .irqfd_add = acc_irqfd_add,
    .irqfd_update = acc_irqfd_update,
    .irqfd_remove = acc_irqfd_remove,
};

static void hook_write(void *opaque, struct em_pci_dev *d, unsigned offset, uint32_t value,
                       unsigned size)
{
    (void)opaque;
    (void)d;
    (void)value;
    em_msix_config_write(msix, offset, size);
}

static const struct em_pci_dev_ops dev_ops = { .config_write = hook_write };

static struct em_pci_dev *new_dev(void)
{
    const struct em_pci_dev_info info = {
        .name = "msix-dev", .vendor = 0x1234, .device = 0x11, .intx_pin = 1, .ops = &dev_ops
    };

    return em_pci_dev_create(bus, &info);
}

static void setup(void)
{
    struct em_pci_bus_config cfg;

    log_capture_init(&cap);
    pio = kc_bus_create(KC_BUS_PIO, &cap.logger);
    mmio = kc_bus_create(KC_BUS_MMIO, &cap.logger);
    cfg =
        (struct em_pci_bus_config){ .pio = pio, .mmio = mmio, .log = &cap.logger, .accel = &accel };
    bus = em_pci_bus_create(&cfg);
    ck_assert_ptr_nonnull(bus);
    msis = irqfd_adds = irqfd_updates = irqfd_removes = 0;
    irqfd_offered = irqfd_add_fails = irqfd_update_fails = false;
    irqfd_fd = removed_fd = removed_handle = -1;
    dev = new_dev();
    ck_assert_ptr_nonnull(dev);
    msix = em_msix_create(dev, NVEC, BAR);
    ck_assert_ptr_nonnull(msix);
    ck_assert_int_eq(em_pci_dev_plug(dev, SLOT, 0), 0);
}

static void teardown(void)
{
    em_msix_destroy(msix);
    em_pci_bus_destroy(bus);
    kc_bus_destroy(mmio);
    kc_bus_destroy(pio);
}

static unsigned cfg_off(void)
{
    return em_msix_cap_offset(msix);
}

static uint32_t cfg_rd(unsigned off, unsigned size)
{
    return em_pci_config_read(bus, 0, SLOT, 0, off, size);
}

static void cfg_wr(unsigned off, uint32_t v, unsigned size)
{
    em_pci_config_write(bus, 0, SLOT, 0, off, v, size);
}

static uint64_t bar_rd(uint64_t off, unsigned size)
{
    uint64_t v = 0;
    bool stop;

    ck_assert(kc_bus_read(mmio, em_pci_bar_addr(dev, BAR) + off, size, &v, &stop));
    return v;
}

static void bar_wr(uint64_t off, uint64_t v, unsigned size)
{
    bool stop;

    ck_assert(kc_bus_write(mmio, em_pci_bar_addr(dev, BAR) + off, v, size, &stop));
}

static void program(unsigned v, bool masked)
{
    bar_wr(16ull * v, ADDR(v), 4);
    bar_wr(16ull * v + 4, 0, 4);
    bar_wr(16ull * v + 8, DATA(v), 4);
    bar_wr(16ull * v + 12, masked, 4);
}

static void ctrl(uint16_t set, uint16_t clear)
{
    uint16_t c = (uint16_t)cfg_rd(cfg_off() + 2, 2);

    cfg_wr(cfg_off() + 2, (uint16_t)((c | set) & ~clear), 2);
}

static uint64_t pba(void)
{
    return bar_rd(em_msix_pba_offset(msix), 8);
}

START_TEST(capability_and_bar_layout)
{
    unsigned c = cfg_off();

    ck_assert_uint_ge(c, EM_PCI_CAP_START);
    ck_assert_int_eq(em_pci_dev_find_cap(dev, 0x11), (int)c);
    ck_assert_uint_eq(cfg_rd(c, 1), 0x11);
    ck_assert_uint_eq(cfg_rd(c + 2, 2), NVEC - 1);
    ck_assert_uint_eq(cfg_rd(c + 4, 4), BAR);         /* table at 0 */
    ck_assert_uint_eq(cfg_rd(c + 8, 4), 0x800 | BAR); /* PBA at 0x800 */
    ck_assert_uint_eq(em_msix_pba_offset(msix), 0x800);
    ck_assert_uint_eq(em_msix_nvec(msix), NVEC);
    ck_assert(em_pci_bar_mapped(dev, BAR));
    /* Only enable and function mask are writable. */
    cfg_wr(c + 2, 0xffff, 2);
    ck_assert_uint_eq(cfg_rd(c + 2, 2), 0xc000 | (NVEC - 1));
    cfg_wr(c + 4, 0xffffffff, 4);
    cfg_wr(c + 8, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_rd(c + 4, 4), BAR);
    ck_assert_uint_eq(cfg_rd(c + 8, 4), 0x800 | BAR);
    /* Power-on entries: masked, zero. */
    for (unsigned v = 0; v < NVEC; v++) {
        ck_assert_uint_eq(bar_rd(16 * v, 8), 0);
        ck_assert_uint_eq(bar_rd(16 * v + 8, 8), 1ull << 32);
    }
    ck_assert_uint_eq(pba(), 0);
}
END_TEST

START_TEST(the_largest_table)
{
    struct em_pci_dev *d = new_dev();
    struct em_msix *m = em_msix_create(d, EM_MSIX_MAX_VECTORS, 0);

    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(em_msix_pba_offset(m), 0x8000);
    ck_assert_int_eq(em_pci_dev_plug(d, SLOT + 1, 0), 0);
    ck_assert_uint_eq(em_pci_config_read(bus, 0, SLOT + 1, 0, em_msix_cap_offset(m) + 2, 2), 0x7ff);
    /* The PBA's last qword is inside a 64 KiB BAR. */
    {
        uint64_t v = 1;
        bool stop;

        ck_assert(kc_bus_read(mmio, em_pci_bar_addr(d, 0) + 0x8000 + 248, 8, &v, &stop));
        ck_assert_uint_eq(v, 0);
        ck_assert(kc_bus_read(mmio, em_pci_bar_addr(d, 0) + 0xfff8, 8, &v, &stop));
    }
    em_msix_destroy(m);
    em_pci_dev_destroy(d);
}
END_TEST

START_TEST(create_errors)
{
    struct em_pci_dev *d = new_dev();

    ck_assert_ptr_null(em_msix_create(d, 0, 0));
    ck_assert(log_has(&cap, "msix-dev: MSI-X with 0 vectors (1 to 2048)"));
    ck_assert_ptr_null(em_msix_create(d, EM_MSIX_MAX_VECTORS + 1, 0));
    ck_assert(log_has(&cap, "MSI-X with 2049 vectors"));
    ck_assert_ptr_null(em_msix_create(d, 4, 6));
    ck_assert(log_has(&cap, "BAR6"));
    em_pci_dev_destroy(d);
    /* A plugged device takes no more capabilities. */
    ck_assert_ptr_null(em_msix_create(dev, 4, 0));
    ck_assert(log_has(&cap, "already plugged"));
}
END_TEST

START_TEST(disabled_falls_back)
{
    program(1, false);
    ck_assert(!em_msix_enabled(msix));
    ck_assert(!em_msix_notify(msix, 1));
    ck_assert_uint_eq(msis, 0);
    ck_assert_uint_eq(pba(), 0);
}
END_TEST

START_TEST(delivers_the_programmed_message)
{
    ctrl(EM_MSIX_CTRL_ENABLE, 0);
    ck_assert(em_msix_enabled(msix));
    for (unsigned v = 0; v < NVEC; v++)
        program(v, false);
    for (unsigned v = 0; v < NVEC; v++) {
        ck_assert(em_msix_notify(msix, v));
        ck_assert_uint_eq(msis, v + 1);
        ck_assert_uint_eq(last_addr, ADDR(v));
        ck_assert_uint_eq(last_data, DATA(v));
    }
    /* A 64-bit address. */
    bar_wr(16 + 4, 0x1, 4);
    ck_assert(em_msix_notify(msix, 1));
    ck_assert_uint_eq(last_addr, 0x100000000ull | ADDR(1));
    /* Beyond the table (virtio's NO_VECTOR): enabled, nothing sent. */
    ck_assert(em_msix_notify(msix, NVEC));
    ck_assert(em_msix_notify(msix, 0xffff));
    ck_assert_uint_eq(msis, NVEC + 1);
    ck_assert_uint_eq(pba(), 0);
}
END_TEST

START_TEST(entry_mask_pending_and_coalesced)
{
    ctrl(EM_MSIX_CTRL_ENABLE, 0);
    program(3, true);
    ck_assert(em_msix_notify(msix, 3));
    ck_assert(em_msix_notify(msix, 3));
    ck_assert_uint_eq(msis, 0);
    ck_assert_uint_eq(pba(), 1u << 3);
    ck_assert_uint_eq(bar_rd(em_msix_pba_offset(msix), 4), 1u << 3);
    ck_assert_uint_eq(bar_rd(em_msix_pba_offset(msix) + 4, 4), 0);
    /* The PBA is read-only. */
    bar_wr(em_msix_pba_offset(msix), 0, 8);
    bar_wr(em_msix_pba_offset(msix), 0xff, 4);
    ck_assert_uint_eq(pba(), 1u << 3);
    /* Other fields written while masked do not deliver. */
    bar_wr(16 * 3 + 8, DATA(9), 4);
    ck_assert_uint_eq(msis, 0);
    bar_wr(16 * 3 + 12, 0, 4);
    ck_assert_uint_eq(msis, 1);
    ck_assert_uint_eq(last_data, DATA(9));
    ck_assert_uint_eq(pba(), 0);
}
END_TEST

START_TEST(function_mask_and_enable)
{
    for (unsigned v = 0; v < NVEC; v++)
        program(v, false);
    ctrl(EM_MSIX_CTRL_ENABLE | EM_MSIX_CTRL_MASKALL, 0);
    ck_assert(em_msix_notify(msix, 0));
    ck_assert(em_msix_notify(msix, 4));
    ck_assert_uint_eq(msis, 0);
    ck_assert_uint_eq(pba(), 0x11);
    /* Disabling keeps them pending; enabling while still masked too. */
    ctrl(0, EM_MSIX_CTRL_ENABLE);
    ck_assert(!em_msix_notify(msix, 1));
    ctrl(EM_MSIX_CTRL_ENABLE, 0);
    ck_assert_uint_eq(msis, 0);
    ck_assert_uint_eq(pba(), 0x11);
    /* Unmasking the function delivers both. */
    ctrl(0, EM_MSIX_CTRL_MASKALL);
    ck_assert_uint_eq(msis, 2);
    ck_assert_uint_eq(pba(), 0);
}
END_TEST

START_TEST(table_accesses_checked)
{
    program(0, false);
    /* Odd sizes and misaligned accesses read 0 and write nothing. */
    bar_wr(8, 0x1, 1);
    bar_wr(8, 0x1, 2);
    bar_wr(9, 0x1, 4);
    bar_wr(4, ~0ull, 8);
    ck_assert_uint_eq(bar_rd(8, 4), DATA(0));
    ck_assert_uint_eq(bar_rd(4, 4), 0);
    ck_assert_uint_eq(bar_rd(8, 1), 0);
    ck_assert_uint_eq(bar_rd(8, 2), 0);
    ck_assert_uint_eq(bar_rd(12, 8), 0);
    /* Reserved bits. */
    bar_wr(0, 0xfee00003, 4);
    bar_wr(12, 0xfffffffe, 4);
    ck_assert_uint_eq(bar_rd(0, 4), 0xfee00000);
    ck_assert_uint_eq(bar_rd(12, 4), 0);
    /* Past the table: nothing, everywhere in the BAR. */
    for (uint64_t off = 16 * NVEC; off < 4096; off += 8) {
        bar_wr(off, ~0ull, 8);
        if (off != em_msix_pba_offset(msix))
            ck_assert_uint_eq(bar_rd(off, 8), 0);
    }
    ck_assert_uint_eq(pba(), 0);
}
END_TEST

START_TEST(reset_and_clear_pending)
{
    ctrl(EM_MSIX_CTRL_ENABLE, 0);
    program(2, true);
    ck_assert(em_msix_notify(msix, 2));
    em_msix_clear_pending(msix);
    ck_assert_uint_eq(pba(), 0);
    bar_wr(16 * 2 + 12, 0, 4);
    ck_assert_uint_eq(msis, 0);
    bar_wr(16 * 2 + 12, 1, 4);
    ck_assert(em_msix_notify(msix, 2));
    em_msix_reset(msix);
    ck_assert_uint_eq(pba(), 0);
    ck_assert_uint_eq(bar_rd(16 * 2, 8), 0);
    ck_assert_uint_eq(bar_rd(16 * 2 + 8, 8), 1ull << 32);
    ck_assert(em_msix_notify(msix, 2)); /* masked again: pending */
    ck_assert_uint_eq(pba(), 4);
    ck_assert_uint_eq(msis, 0);
}
END_TEST

START_TEST(irqfd_created_updated_removed)
{
    uint64_t count = 0;

    irqfd_offered = true;
    ctrl(EM_MSIX_CTRL_ENABLE, 0);
    program(1, false);
    ck_assert_uint_eq(irqfd_adds, 0);
    ck_assert(em_msix_notify(msix, 1));
    ck_assert_uint_eq(irqfd_adds, 1);
    ck_assert_int_ge(irqfd_fd, 0);
    ck_assert_uint_eq(route_addr, ADDR(1));
    ck_assert_uint_eq(route_data, DATA(1));
    ck_assert_uint_eq(msis, 0); /* went through the eventfd */
    ck_assert(em_msix_notify(msix, 1));
    ck_assert_int_eq(read(irqfd_fd, &count, sizeof(count)), (int)sizeof(count));
    ck_assert_uint_eq(count, 2);
    ck_assert_uint_eq(irqfd_updates, 0);
    /* The entry changes: the route follows at the next interrupt. */
    bar_wr(16 + 8, DATA(7), 4);
    ck_assert_uint_eq(irqfd_updates, 0);
    ck_assert(em_msix_notify(msix, 1));
    ck_assert_uint_eq(irqfd_updates, 1);
    ck_assert_uint_eq(route_data, DATA(7));
    ck_assert(em_msix_notify(msix, 1));
    ck_assert_uint_eq(irqfd_updates, 1);
    ck_assert_uint_eq(irqfd_adds, 1);
    /* Destroy removes it, with the handle and descriptor it was given. */
    {
        int fd = irqfd_fd;

        em_msix_destroy(msix);
        msix = NULL;
        ck_assert_uint_eq(irqfd_removes, 1);
        ck_assert_int_eq(removed_handle, 77);
        ck_assert_int_eq(removed_fd, fd);
        ck_assert_int_eq(fcntl(fd, F_GETFD), -1); /* closed */
    }
}
END_TEST

START_TEST(irqfd_refused_falls_back_to_msi)
{
    irqfd_offered = true;
    irqfd_add_fails = true;
    ctrl(EM_MSIX_CTRL_ENABLE, 0);
    program(0, false);
    for (int i = 0; i < 3; i++)
        ck_assert(em_msix_notify(msix, 0));
    ck_assert_uint_eq(irqfd_adds, 1); /* not retried on every interrupt */
    ck_assert_uint_eq(msis, 3);
    ck_assert_uint_eq(last_data, DATA(0));
}
END_TEST

START_TEST(irqfd_update_failure_falls_back_to_msi)
{
    irqfd_offered = true;
    irqfd_update_fails = true;
    ctrl(EM_MSIX_CTRL_ENABLE, 0);
    program(0, false);
    ck_assert(em_msix_notify(msix, 0));
    ck_assert_uint_eq(msis, 0);
    bar_wr(8, DATA(5), 4);
    ck_assert(em_msix_notify(msix, 0));
    ck_assert_uint_eq(irqfd_updates, 1);
    ck_assert_uint_eq(irqfd_removes, 1);
    ck_assert_uint_eq(msis, 1);
    ck_assert_uint_eq(last_data, DATA(5));
    ck_assert(em_msix_notify(msix, 0));
    ck_assert_uint_eq(msis, 2);
    ck_assert_uint_eq(irqfd_adds, 1);
}
END_TEST

/* One thread raises vector 0 while the guest masks and unmasks it. */
static volatile bool hammer_stop;

static void *hammer(void *arg)
{
    unsigned *sent = arg;

    while (!hammer_stop)
        __atomic_add_fetch(sent, em_msix_notify(msix, 0), __ATOMIC_RELAXED);
    return NULL;
}

START_TEST(concurrent_notify_and_masking)
{
    pthread_t t;
    unsigned sent = 0;

    ctrl(EM_MSIX_CTRL_ENABLE, 0);
    program(0, false);
    hammer_stop = false;
    ck_assert_int_eq(pthread_create(&t, NULL, hammer, &sent), 0);
    while (__atomic_load_n(&sent, __ATOMIC_RELAXED) == 0)
        usleep(100);
    for (int i = 0; i < 2000 || __atomic_load_n(&sent, __ATOMIC_RELAXED) < 1000; i++) {
        bar_wr(12, i & 1, 4);
        if (i % 7 == 0)
            ctrl(EM_MSIX_CTRL_MASKALL, 0);
        else if (i % 7 == 3)
            ctrl(0, EM_MSIX_CTRL_MASKALL);
    }
    bar_wr(12, 0, 4);
    ctrl(0, EM_MSIX_CTRL_MASKALL);
    hammer_stop = true;
    pthread_join(t, NULL);
    /* Nothing is left pending once everything is unmasked, and nothing
     * was delivered that was not raised. */
    ck_assert_uint_eq(pba(), 0);
    ck_assert_uint_gt(msis, 0);
    ck_assert_uint_le(msis, sent);
    ck_assert_uint_gt(sent, 0);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_msix");
    TCase *tc = tcase_create("msix");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, capability_and_bar_layout);
    tcase_add_test(tc, the_largest_table);
    tcase_add_test(tc, create_errors);
    tcase_add_test(tc, disabled_falls_back);
    tcase_add_test(tc, delivers_the_programmed_message);
    tcase_add_test(tc, entry_mask_pending_and_coalesced);
    tcase_add_test(tc, function_mask_and_enable);
    tcase_add_test(tc, table_accesses_checked);
    tcase_add_test(tc, reset_and_clear_pending);
    tcase_add_test(tc, irqfd_created_updated_removed);
    tcase_add_test(tc, irqfd_refused_falls_back_to_msi);
    tcase_add_test(tc, irqfd_update_failure_falls_back_to_msi);
    tcase_add_test(tc, concurrent_notify_and_masking);
    suite_add_tcase(s, tc);
    return s;
}
