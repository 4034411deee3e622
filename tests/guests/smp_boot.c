/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The BSP starts the APs as an OS does: it copies a real-mode trampoline
 * (smp_tramp.S) below 1 MiB, enables its local APIC and sends, to all but
 * itself, INIT (assert, then de-assert), 10 ms later a STARTUP IPI with the
 * trampoline's page as vector, and 200 us later a second one. It then
 * waits (bounded, timed with the ACPI PM timer) until as many APs as
 * fw_cfg says there are CPUs, less one, have checked in, waits a little
 * more to see that none comes twice, and prints every CPU's APIC ids. The
 * ids must be 0..n-1, each once, CPUID's and the LAPIC's agreeing, and the
 * MADT must list the same ids with the BSP first. Lines start with "smp ";
 * see bootinfo.h for the conventions.
 */
#include "bootinfo.h"
#include "smp_boot.h"

#define TAG "smp"

#define LAPIC          0xfee00000ul
#define LAPIC_ID       0x020
#define LAPIC_SVR      0x0f0
#define LAPIC_ICR_LO   0x300
#define LAPIC_ICR_HI   0x310
#define SVR_ENABLE     0x100
#define ICR_BUSY       (1u << 12)
#define ICR_INIT       0x500
#define ICR_STARTUP    0x600
#define ICR_ASSERT     (1u << 14)
#define ICR_LEVEL      (1u << 15)
#define ICR_ALL_BUT_ME (3u << 18)

#define PM_TMR       0xb008
#define PM_TMR_HZ    3579545ull
#define PM_TMR_MASK  0xffffffu
#define WAIT_APS_MS  10000
#define SETTLE_MS    50
#define MAX_CPUS     (TRAMP_MAX_APS + 1)
#define FW_CFG_SEL   0x510
#define FW_CFG_DATA  0x511
#define RSDP_SCAN    0xe0000ul
#define RSDP_SCANEND 0x100000ul

enum {
    F_FW_CFG = 1,
    F_ICR,
    F_TIMEOUT,
    F_EXTRA_AP,
    F_COUNTERS,
    F_ID_MISMATCH,
    F_CS,
    F_IDS,
    F_MADT,
};

extern const uint8_t smp_tramp_start[], smp_tramp_end[];

/* ---- the ACPI PM timer as a clock ---- */

static uint32_t pm_last;
static uint64_t pm_ticks;

static uint64_t now_us(void)
{
    uint32_t t = inl(PM_TMR) & PM_TMR_MASK;

    pm_ticks += (t - pm_last) & PM_TMR_MASK;
    pm_last = t;
    return pm_ticks * 1000000 / PM_TMR_HZ;
}

static void delay_us(uint64_t us)
{
    uint64_t end = now_us() + us;

    while (now_us() < end)
        cpu_relax();
}

/* ---- the local APIC ---- */

static uint32_t lapic_read(unsigned reg)
{
    return mmio_read32(LAPIC + reg);
}

static void lapic_write(unsigned reg, uint32_t v)
{
    mmio_write32(LAPIC + reg, v);
}

static void send_ipi(uint32_t icr)
{
    uint64_t end;

    lapic_write(LAPIC_ICR_HI, 0);
    lapic_write(LAPIC_ICR_LO, icr);
    end = now_us() + 100000;
    while (lapic_read(LAPIC_ICR_LO) & ICR_BUSY)
        if (now_us() > end)
            bi_fail(TAG, BI_FAIL_BASE + F_ICR, "the ICR stayed busy for 100 ms");
}

/* ---- what the APs wrote ---- */

static uint32_t tramp32(unsigned off)
{
    return mmio_read32(off);
}

static uint32_t tramp_at(unsigned base, unsigned slot)
{
    return mmio_read32(base + 4 * slot);
}

static void put_counters(void)
{
    bi_puts(TAG " counters xadd ");
    bi_dec(tramp32(TRAMP_SLOTS));
    bi_puts(" cmpxchg ");
    bi_dec(tramp32(TRAMP_CAS));
    bi_puts(" inc ");
    bi_dec(tramp32(TRAMP_DONE));
    bi_puts("\n");
}

static unsigned fw_cfg_cpus(void)
{
    unsigned v;

    outw(FW_CFG_SEL, 0x05);
    v = inb(FW_CFG_DATA);
    return v | (unsigned)inb(FW_CFG_DATA) << 8;
}

/* The MADT's local APIC ids in order, through RSDP -> XSDT -> "APIC";
 * returns how many, or -1 without ACPI tables. */
static int madt_ids(uint8_t *ids, unsigned max)
{
    const volatile uint8_t *r = 0, *x, *m = 0;
    unsigned n = 0;

    for (uintptr_t a = RSDP_SCAN; a < RSDP_SCANEND && !r; a += 16)
        if (bi_memeq(bi_ptr(a), "RSD PTR ", 8) && bi_sum(bi_ptr(a), 20) == 0)
            r = bi_ptr(a);
    if (!r)
        return -1;
    x = bi_ptr(bi_rd64(r + 24));
    for (uint32_t off = 36; off + 8 <= bi_rd32(x + 4) && !m; off += 8)
        if (bi_memeq(bi_ptr(bi_rd64(x + off)), "APIC", 4))
            m = bi_ptr(bi_rd64(x + off));
    BI_CHECK(TAG, m && bi_sum(m, bi_rd32(m + 4)) == 0, F_MADT);
    for (uint32_t off = 44; off + 2 <= bi_rd32(m + 4) && m[off + 1]; off += m[off + 1])
        if (m[off] == 0 && (bi_rd32(m + off + 4) & 1) && n < max)
            ids[n++] = m[off + 3];
    return (int)n;
}

int main(void)
{
    const unsigned tramp_size = (unsigned)(smp_tramp_end - smp_tramp_start);
    uint32_t a, b, c, d, bsp_cpuid_id, bsp_lapic_id;
    unsigned ncpus, aps, seen[MAX_CPUS] = { 0 };
    uint8_t madt[MAX_CPUS];
    uint64_t t0, t_up;
    int nmadt;

    bi_puts(TAG " start\n");
    ncpus = fw_cfg_cpus();
    bi_puts(TAG " fw_cfg cpus ");
    bi_dec(ncpus);
    bi_puts("\n");
    BI_CHECK(TAG, ncpus >= 1 && ncpus <= MAX_CPUS, F_FW_CFG);
    BI_CHECK(TAG, tramp_size <= TRAMP_DATA - TRAMP_BASE, F_FW_CFG);
    aps = ncpus - 1;

    cpuid(1, 0, &a, &b, &c, &d);
    bsp_cpuid_id = b >> 24;
    bsp_lapic_id = lapic_read(LAPIC_ID) >> 24;

    /* The trampoline and a clean data area, then INIT-SIPI-SIPI. */
    memcpy((void *)TRAMP_BASE, smp_tramp_start, tramp_size);
    memset((void *)TRAMP_DATA, 0, TRAMP_DATA_SIZE);
    lapic_write(LAPIC_SVR, SVR_ENABLE | 0xff);
    now_us();
    t0 = now_us();
    send_ipi(ICR_ALL_BUT_ME | ICR_LEVEL | ICR_ASSERT | ICR_INIT);
    send_ipi(ICR_ALL_BUT_ME | ICR_LEVEL | ICR_INIT);
    delay_us(10000);
    send_ipi(ICR_ALL_BUT_ME | ICR_STARTUP | TRAMP_VECTOR);
    delay_us(200);
    send_ipi(ICR_ALL_BUT_ME | ICR_STARTUP | TRAMP_VECTOR);

    while (tramp32(TRAMP_DONE) < aps) {
        if (now_us() - t0 > WAIT_APS_MS * 1000ull) {
            put_counters();
            bi_fail(TAG, BI_FAIL_BASE + F_TIMEOUT, "not every AP checked in within 10 s");
        }
        cpu_relax();
    }
    t_up = now_us() - t0;
    delay_us(SETTLE_MS * 1000);
    put_counters();
    bi_puts(TAG " aps up after ");
    bi_dec(t_up / 1000);
    bi_puts(" ms\n");
    BI_CHECK(TAG, tramp32(TRAMP_DONE) == aps, F_EXTRA_AP);
    BI_CHECK(TAG, tramp32(TRAMP_SLOTS) == aps && tramp32(TRAMP_CAS) == aps, F_COUNTERS);

    bi_puts(TAG " cpu bsp cpuid_id ");
    bi_dec(bsp_cpuid_id);
    bi_puts(" lapic_id ");
    bi_dec(bsp_lapic_id);
    bi_puts("\n");
    BI_CHECK(TAG, bsp_cpuid_id == bsp_lapic_id, F_ID_MISMATCH);
    BI_CHECK(TAG, bsp_lapic_id < ncpus, F_IDS);
    seen[bsp_lapic_id]++;
    for (unsigned i = 0; i < aps; i++) {
        uint32_t cid = tramp_at(TRAMP_CPUID_IDS, i), lid = tramp_at(TRAMP_LAPIC_IDS, i);
        uint32_t cs = tramp_at(TRAMP_CS, i);

        bi_puts(TAG " cpu ap cpuid_id ");
        bi_dec(cid);
        bi_puts(" lapic_id ");
        bi_dec(lid);
        bi_puts(" cs ");
        bi_hexv(cs);
        bi_puts("\n");
        BI_CHECK(TAG, cid == lid, F_ID_MISMATCH);
        BI_CHECK(TAG, cs == TRAMP_VECTOR << 8, F_CS);
        BI_CHECK(TAG, lid < ncpus, F_IDS);
        seen[lid]++;
    }
    for (unsigned i = 0; i < ncpus; i++)
        BI_CHECK(TAG, seen[i] == 1, F_IDS);
    bi_puts(TAG " ids 0.."); /* every one seen exactly once */
    bi_dec(ncpus - 1);
    bi_puts(" each once\n");

    nmadt = madt_ids(madt, MAX_CPUS);
    if (nmadt >= 0) {
        bi_puts(TAG " madt ids");
        for (int i = 0; i < nmadt; i++) {
            bi_putc(' ');
            bi_dec(madt[i]);
        }
        bi_puts("\n");
        /* The same set as the CPUs reported, the BSP first. */
        BI_CHECK(TAG, (unsigned)nmadt == ncpus && madt[0] == bsp_lapic_id, F_MADT);
        for (int i = 0; i < nmadt; i++)
            BI_CHECK(TAG, madt[i] < ncpus && seen[madt[i]] == 1, F_MADT);
        for (int i = 0; i < nmadt; i++)
            for (int j = i + 1; j < nmadt; j++)
                BI_CHECK(TAG, madt[i] != madt[j], F_MADT);
    }
    bi_puts(TAG " ok\n");
    return BI_OK;
}
