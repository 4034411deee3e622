/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Interrupts raised by the host through the in-kernel irqchip and handled
 * by the guest's IDT: an IOAPIC line, an MSI, an irqfd on an IOAPIC pin,
 * and an irqfd on an MSI route (see tests/guests/irq.c for the steps).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "harness.h"

const bool test_needs_kvm = true;

#define MSI_ADDR 0xfee00000ull /* destination APIC id 0, physical mode */

/* What the guest reported so far, for failure messages. */
static const char *reports_text(struct kt_vm *t, char *buf, size_t len)
{
    uint32_t got[KT_MAX_REPORTS];
    unsigned n = kt_reports(t, got, KT_MAX_REPORTS);
    size_t pos = 0;

    buf[0] = '\0';
    for (unsigned i = 0; i < n && pos + 12 < len; i++)
        pos += (size_t)snprintf(buf + pos, len - pos, " 0x%x", got[i]);
    return buf;
}

static void step(struct kt_vm *t, uint32_t ready)
{
    char buf[256];

    ck_assert_msg(kt_wait_report(t, ready, KT_TIMEOUT_S),
                  "guest never reported ready %u; it reported:%s", ready,
                  reports_text(t, buf, sizeof(buf)));
}

static void delivered(struct kt_vm *t, uint32_t vector)
{
    char buf[256];

    ck_assert_msg(kt_wait_report(t, 0x1000 | vector, KT_TIMEOUT_S),
                  "vector 0x%x never reached the guest's handler; it reported:%s", vector,
                  reports_text(t, buf, sizeof(buf)));
}

START_TEST(host_interrupts_reach_the_idt)
{
    struct kt_vm *t = kt_vm_new(1, NULL);
    uint32_t got[KT_MAX_REPORTS];
    static const uint32_t want[] = { 1, 0x1040, 2, 0x1041, 3, 0x1042, 4, 0x1043 };
    uint64_t one = 1;
    int efd_pin = eventfd(0, EFD_CLOEXEC), efd_msi = eventfd(0, EFD_CLOEXEC);
    int gsi;

    ck_assert_int_ge(efd_pin, 0);
    ck_assert_int_ge(efd_msi, 0);
    kt_boot(t, "irq", KT_LONG);
    kt_start(t, 0);

    step(t, 1);
    ck_assert_int_eq(kc_vm_irq_line(t->vm, 10, 1), 0);
    ck_assert_int_eq(kc_vm_irq_line(t->vm, 10, 0), 0);
    delivered(t, 0x40);

    step(t, 2);
    ck_assert_int_eq(kc_vm_signal_msi(t->vm, MSI_ADDR, 0x41), 0);
    delivered(t, 0x41);

    step(t, 3);
    ck_assert_int_eq(kc_vm_irqfd_add(t->vm, efd_pin, 11, -1), 0);
    ck_assert_int_eq(write(efd_pin, &one, sizeof(one)), sizeof(one));
    delivered(t, 0x42);

    step(t, 4);
    gsi = kc_vm_msi_route_add(t->vm, MSI_ADDR, 0x43);
    ck_assert_msg(gsi >= 24, "MSI route: %d (%s)", gsi, t->log.text);
    ck_assert_int_eq(kc_vm_irqfd_add(t->vm, efd_msi, (unsigned)gsi, -1), 0);
    ck_assert_int_eq(write(efd_msi, &one, sizeof(one)), sizeof(one));
    delivered(t, 0x43);

    ck_assert_int_eq(kt_join(t, 0, KT_TIMEOUT_S), KC_LOOP_EXIT);
    ck_assert_int_eq(t->exit_code[0], 0);
    /* Exactly these, in this order: no spurious or duplicate interrupts,
     * no exception (0xe0xx). */
    ck_assert_uint_eq(kt_reports(t, got, KT_MAX_REPORTS), 8);
    for (unsigned i = 0; i < 8; i++)
        ck_assert_msg(got[i] == want[i], "report %u: 0x%x, want 0x%x", i, got[i], want[i]);

    ck_assert_int_eq(kc_vm_irqfd_remove(t->vm, efd_pin, 11), 0);
    ck_assert_int_eq(kc_vm_irqfd_remove(t->vm, efd_msi, (unsigned)gsi), 0);
    ck_assert_int_eq(kc_vm_msi_route_remove(t->vm, (unsigned)gsi), 0);
    kt_vm_free(t);
    close(efd_pin);
    close(efd_msi);
}
END_TEST

START_TEST(msi_routes_are_managed)
{
    struct kt_vm *t = kt_vm_new(1, NULL);
    int a = kc_vm_msi_route_add(t->vm, MSI_ADDR, 0x50);
    int b = kc_vm_msi_route_add(t->vm, MSI_ADDR, 0x51);

    ck_assert_int_ge(a, 24);
    ck_assert_int_ge(b, 24);
    ck_assert_int_ne(a, b);
    ck_assert_int_eq(kc_vm_msi_route_update(t->vm, (unsigned)a, MSI_ADDR, 0x52), 0);
    ck_assert_int_eq(kc_vm_msi_route_remove(t->vm, (unsigned)a), 0);
    /* A freed GSI is reused; removing twice, or an IOAPIC pin, is refused. */
    ck_assert_int_eq(kc_vm_msi_route_add(t->vm, MSI_ADDR, 0x53), a);
    ck_assert_int_eq(kc_vm_msi_route_remove(t->vm, 5), -ENOENT);
    ck_assert_msg(log_has(&t->log, "GSI 5 is not an MSI route"), "%s", t->log.text);
    ck_assert_int_eq(kc_vm_msi_route_update(t->vm, 9999, MSI_ADDR, 0), -ENOENT);
    kt_vm_free(t);
}
END_TEST

START_TEST(no_irqchip_is_refused_clearly)
{
    struct kc_vm_config cfg;
    struct kt_vm *t;

    kc_vm_config_init(&cfg);
    cfg.irqchip = false;
    cfg.pit = false;
    t = kt_vm_new(1, &cfg);
    ck_assert(!kc_vm_has_irqchip(t->vm));
    ck_assert_int_eq(kc_vm_irq_line(t->vm, 4, 1), -ENODEV);
    ck_assert_int_eq(kc_vm_signal_msi(t->vm, MSI_ADDR, 0x30), -ENODEV);
    ck_assert_int_eq(kc_vm_msi_route_add(t->vm, MSI_ADDR, 0x30), -ENODEV);
    ck_assert_msg(log_has(&t->log, "KVM_IRQ_LINE needs the in-kernel irqchip"), "%s", t->log.text);
    kt_vm_free(t);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("kvm-irq");
    TCase *tc = tcase_create("irq");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, host_interrupts_reach_the_idt);
    tcase_add_test(tc, msi_routes_are_managed);
    tcase_add_test(tc, no_irqchip_is_refused_clearly);
    suite_add_tcase(s, tc);
    return s;
}
