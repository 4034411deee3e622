/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ACPI PM device and the firmware tables, as a guest under kvmemu sees
 * them: the RSDP at 0xe0000 and the MP floating pointer at 0xf0000 with
 * good checksums, the FADT's PM blocks, SCI_EN set, the PM timer running,
 * an unsupported sleep type answered with WAK_STS, and finally S5, which
 * must end kvmemu with status 0. A failed check exits through the
 * debug-exit port with 0x20 + its number.
 */
#include "guest.h"

#define PM_BASE    0xb000
#define PM1_STS    (PM_BASE + 0)
#define PM1_CNT    (PM_BASE + 4)
#define PM_TMR     (PM_BASE + 8)
#define SCI_EN     0x0001
#define WAK_STS    0x8000
#define SLP_EN     0x2000
#define SLP_TYP(n) ((n) << 10)

static void check(int ok, uint8_t n)
{
    if (!ok)
        guest_exit((uint8_t)(0x20 + n));
}

static uint8_t sum(const volatile uint8_t *p, unsigned n)
{
    uint8_t s = 0;

    for (unsigned i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

static int same(const volatile uint8_t *p, const char *s, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (p[i] != (uint8_t)s[i])
            return 0;
    return 1;
}

static uint32_t rd32(const volatile uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The FADT through RSDP -> XSDT, as an OS finds it. */
static void check_tables(void)
{
    const volatile uint8_t *rsdp = (const volatile uint8_t *)0xe0000ul;
    const volatile uint8_t *xsdt, *fadt, *mp;

    check(same(rsdp, "RSD PTR ", 8), 1);
    check(sum(rsdp, 20) == 0 && sum(rsdp, 36) == 0, 2);
    xsdt = (const volatile uint8_t *)(uintptr_t)rd32(rsdp + 24);
    check(same(xsdt, "XSDT", 4) && sum(xsdt, rd32(xsdt + 4)) == 0, 3);
    fadt = (const volatile uint8_t *)(uintptr_t)rd32(xsdt + 36);
    check(same(fadt, "FACP", 4) && sum(fadt, rd32(fadt + 4)) == 0, 4);
    check(rd32(fadt + 56) == PM1_STS && rd32(fadt + 64) == PM1_CNT && rd32(fadt + 76) == PM_TMR, 5);

    mp = (const volatile uint8_t *)0xf0000ul;
    check(same(mp, "_MP_", 4) && sum(mp, 16) == 0, 6);
}

int main(void)
{
    uint32_t t0, t1;

    check_tables();
    check(inw(PM1_CNT) & SCI_EN, 7);

    /* The timer runs: some thousands of port reads take well over one
     * tick of 279 ns, even on hardware. */
    t0 = inl(PM_TMR);
    for (int i = 0; i < 2000 && inl(PM_TMR) == t0; i++)
        cpu_relax();
    t1 = inl(PM_TMR);
    check(t1 != t0, 8);
    check(t0 <= 0xffffff && t1 <= 0xffffff, 9);

    /* S1 is not offered: the device wakes us at once. */
    outw(PM1_STS, WAK_STS);
    outw(PM1_CNT, SLP_TYP(1) | SLP_EN);
    check(inw(PM1_STS) & WAK_STS, 10);
    outw(PM1_STS, WAK_STS);
    check(!(inw(PM1_STS) & WAK_STS), 11);

    /* S5: as ACPICA writes it, SLP_TYP first, then with SLP_EN. */
    outw(PM1_CNT, SLP_TYP(5));
    outw(PM1_CNT, SLP_TYP(5) | SLP_EN);
    /* Not reached if the machine powered off. */
    check(0, 12);
    return 0;
}
