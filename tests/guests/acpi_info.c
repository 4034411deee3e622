/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The firmware tables as an OS finds them without firmware: the RSDP by
 * scanning 0xe0000-0xfffff, then the XSDT (and the RSDT, which must list
 * the same tables), every table's checksum, signature and length, the
 * FADT's fixed hardware (PM1a event and control blocks, PM timer, SCI,
 * reset register, the DSDT and FACS pointers in both widths), the DSDT's
 * header, the MADT's local APICs and IOAPIC, the MCFG; and the MP table
 * (its floating pointer found by scanning 0xf0000-0xfffff), whose
 * processor entries are counted. The CPU count from fw_cfg must match
 * both. With no RSDP (--no-acpi) the guest says so and checks the MP
 * table alone. Lines start with "acpi " and "mp "; see bootinfo.h.
 */
#include "bootinfo.h"

#define TAG "acpi"

#define SCAN_START    0xe0000ul
#define MP_SCAN_START 0xf0000ul
#define SCAN_END      0x100000ul

#define PM_IO_BASE  0xb000
#define PM1_CNT     (PM_IO_BASE + 4)
#define PM_TMR      (PM_IO_BASE + 8)
#define SCI_GSI     9
#define RESET_PORT  0xcf9
#define RESET_VALUE 0x06
#define LAPIC_BASE  0xfee00000u
#define IOAPIC_BASE 0xfec00000u
#define ECAM_BASE   0xe0000000ull

#define FW_CFG_SEL      0x510
#define FW_CFG_DATA     0x511
#define FW_CFG_NB_CPUS  0x05
#define FW_CFG_MAX_CPUS 0x0f

/* The FADT (ACPI 6.x, 5.2.9) */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT          40
#define FADT_SCI_INT       46
#define FADT_SMI_CMD       48
#define FADT_PM1A_EVT      56
#define FADT_PM1A_CNT      64
#define FADT_PM_TMR        76
#define FADT_PM1_EVT_LEN   88
#define FADT_PM1_CNT_LEN   89
#define FADT_PM_TMR_LEN    91
#define FADT_FLAGS         112
#define FADT_RESET_REG     116
#define FADT_RESET_VALUE   128
#define FADT_X_FACS        132
#define FADT_X_DSDT        140
#define FADT_X_PM1A_EVT    148
#define FADT_X_PM1A_CNT    172
#define FADT_X_PM_TMR      208
#define FADT_MIN_LEN       244

#define FADT_RESET_REG_SUP   (1u << 10)
#define FADT_HW_REDUCED_ACPI (1u << 20)
#define GAS_IO               1

#define MADT_LOCAL_APIC 0
#define MADT_IOAPIC     1
#define MAX_CPUS        256

enum {
    F_FW_CFG = 1,
    F_RSDP,
    F_XSDT,
    F_RSDT,
    F_TABLE,
    F_FADT_PM,
    F_FADT_RESET,
    F_FADT_POINTERS,
    F_DSDT,
    F_FACS,
    F_MADT,
    F_MADT_COUNT,
    F_MCFG,
    F_MP_FLOAT,
    F_MP_TABLE,
    F_MP_COUNT,
    F_NO_FADT,
};

static unsigned ncpus;

static uint64_t fw_cfg_le(uint16_t key, int n)
{
    uint64_t v = 0;

    outw(FW_CFG_SEL, key);
    for (int i = 0; i < n; i++)
        v |= (uint64_t)inb(FW_CFG_DATA) << (8 * i);
    return v;
}

static void put_sig(const volatile uint8_t *p)
{
    for (int i = 0; i < 4; i++)
        bi_putc((char)p[i]);
}

/* A table's signature, length and checksum: prints "acpi table SIG len N
 * at ADDR" and fails if anything is off. */
static const volatile uint8_t *table(uint64_t addr, const char *want)
{
    const volatile uint8_t *t = bi_ptr(addr);
    uint32_t len;

    BI_CHECK(TAG, addr != 0 && addr < 0x100000000ull, F_TABLE);
    len = bi_rd32(t + 4);
    bi_puts(TAG " table ");
    put_sig(t);
    bi_puts(" len ");
    bi_dec(len);
    bi_puts(" rev ");
    bi_dec(t[8]);
    bi_puts(" at ");
    bi_hexv(addr);
    bi_puts("\n");
    if (want)
        BI_CHECK(TAG, bi_memeq(t, want, 4), F_TABLE);
    BI_CHECK(TAG, len >= 36 && len < 0x10000, F_TABLE);
    BI_CHECK(TAG, bi_sum(t, len) == 0, F_TABLE);
    return t;
}

static uint64_t find_rsdp(void)
{
    for (uintptr_t a = SCAN_START; a < SCAN_END; a += 16) {
        const volatile uint8_t *r = bi_ptr(a);

        if (bi_memeq(r, "RSD PTR ", 8) && bi_sum(r, 20) == 0)
            return a;
    }
    return 0;
}

static void check_fadt(const volatile uint8_t *f)
{
    uint32_t len = bi_rd32(f + 4), flags = bi_rd32(f + FADT_FLAGS);
    const volatile uint8_t *reset = f + FADT_RESET_REG;
    const volatile uint8_t *dsdt, *facs;

    BI_CHECK(TAG, len >= FADT_MIN_LEN, F_FADT_PM);
    bi_puts(TAG " fadt pm1a_evt ");
    bi_hexv(bi_rd32(f + FADT_PM1A_EVT));
    bi_puts(" pm1a_cnt ");
    bi_hexv(bi_rd32(f + FADT_PM1A_CNT));
    bi_puts(" pm_tmr ");
    bi_hexv(bi_rd32(f + FADT_PM_TMR));
    bi_puts(" lens ");
    bi_dec(f[FADT_PM1_EVT_LEN]);
    bi_putc(' ');
    bi_dec(f[FADT_PM1_CNT_LEN]);
    bi_putc(' ');
    bi_dec(f[FADT_PM_TMR_LEN]);
    bi_puts(" sci ");
    bi_dec(bi_rd16(f + FADT_SCI_INT));
    bi_puts(" flags ");
    bi_hexv(flags);
    bi_puts("\n");
    BI_CHECK(TAG, bi_rd32(f + FADT_PM1A_EVT) == PM_IO_BASE, F_FADT_PM);
    BI_CHECK(TAG, bi_rd32(f + FADT_PM1A_CNT) == PM1_CNT, F_FADT_PM);
    BI_CHECK(TAG, bi_rd32(f + FADT_PM_TMR) == PM_TMR, F_FADT_PM);
    BI_CHECK(TAG, f[FADT_PM1_EVT_LEN] == 4 && f[FADT_PM1_CNT_LEN] == 2 && f[FADT_PM_TMR_LEN] == 4,
             F_FADT_PM);
    BI_CHECK(TAG, bi_rd16(f + FADT_SCI_INT) == SCI_GSI, F_FADT_PM);
    /* No SMI command port: ACPI is always enabled, SCI_EN reads 1. */
    BI_CHECK(TAG, bi_rd32(f + FADT_SMI_CMD) == 0 && (inw(PM1_CNT) & 1), F_FADT_PM);
    BI_CHECK(TAG, !(flags & FADT_HW_REDUCED_ACPI), F_FADT_PM);
    /* The extended blocks say the same, as I/O space. */
    BI_CHECK(TAG, f[FADT_X_PM1A_EVT] == GAS_IO && bi_rd64(f + FADT_X_PM1A_EVT + 4) == PM_IO_BASE,
             F_FADT_PM);
    BI_CHECK(TAG, f[FADT_X_PM1A_CNT] == GAS_IO && bi_rd64(f + FADT_X_PM1A_CNT + 4) == PM1_CNT,
             F_FADT_PM);
    BI_CHECK(TAG, f[FADT_X_PM_TMR] == GAS_IO && bi_rd64(f + FADT_X_PM_TMR + 4) == PM_TMR,
             F_FADT_PM);

    bi_puts(TAG " fadt reset space ");
    bi_dec(reset[0]);
    bi_puts(" width ");
    bi_dec(reset[1]);
    bi_puts(" addr ");
    bi_hexv(bi_rd64(reset + 4));
    bi_puts(" value ");
    bi_hexv(f[FADT_RESET_VALUE]);
    bi_puts("\n");
    BI_CHECK(TAG, flags & FADT_RESET_REG_SUP, F_FADT_RESET);
    BI_CHECK(TAG, reset[0] == GAS_IO && reset[1] == 8 && bi_rd64(reset + 4) == RESET_PORT,
             F_FADT_RESET);
    BI_CHECK(TAG, f[FADT_RESET_VALUE] == RESET_VALUE, F_FADT_RESET);

    bi_puts(TAG " fadt dsdt ");
    bi_hexv(bi_rd32(f + FADT_DSDT));
    bi_puts(" x_dsdt ");
    bi_hexv(bi_rd64(f + FADT_X_DSDT));
    bi_puts(" facs ");
    bi_hexv(bi_rd32(f + FADT_FIRMWARE_CTRL));
    bi_puts(" x_facs ");
    bi_hexv(bi_rd64(f + FADT_X_FACS));
    bi_puts("\n");
    /* Both DSDT pointers agree; FACS through FIRMWARE_CTRL only (ACPI
     * says X_FIRMWARE_CTRL must then be 0). */
    BI_CHECK(TAG, bi_rd32(f + FADT_DSDT) != 0, F_FADT_POINTERS);
    BI_CHECK(TAG, bi_rd64(f + FADT_X_DSDT) == bi_rd32(f + FADT_DSDT), F_FADT_POINTERS);
    BI_CHECK(TAG, bi_rd32(f + FADT_FIRMWARE_CTRL) != 0 && bi_rd64(f + FADT_X_FACS) == 0,
             F_FADT_POINTERS);

    dsdt = table(bi_rd64(f + FADT_X_DSDT), "DSDT");
    /* Some AML after the header; revision 2 means 64-bit integers. */
    bi_puts(TAG " dsdt aml ");
    bi_dec(bi_rd32(dsdt + 4) - 36);
    bi_puts(" bytes\n");
    BI_CHECK(TAG, bi_rd32(dsdt + 4) > 36 && dsdt[8] >= 2, F_DSDT);

    facs = bi_ptr(bi_rd32(f + FADT_FIRMWARE_CTRL));
    bi_puts(TAG " facs len ");
    bi_dec(bi_rd32(facs + 4));
    bi_puts("\n");
    BI_CHECK(TAG, bi_memeq(facs, "FACS", 4) && bi_rd32(facs + 4) >= 64, F_FACS);
    BI_CHECK(TAG, bi_rd32(f + FADT_FIRMWARE_CTRL) % 64 == 0, F_FACS);
}

static void check_madt(const volatile uint8_t *m)
{
    uint32_t len = bi_rd32(m + 4);
    unsigned lapics = 0, ioapics = 0;

    bi_puts(TAG " madt lapic_addr ");
    bi_hexv(bi_rd32(m + 36));
    bi_puts(" flags ");
    bi_hexv(bi_rd32(m + 40));
    bi_puts("\n");
    BI_CHECK(TAG, bi_rd32(m + 36) == LAPIC_BASE, F_MADT);
    for (uint32_t off = 44; off < len;) {
        const volatile uint8_t *e = m + off;

        BI_CHECK(TAG, e[1] >= 2 && off + e[1] <= len, F_MADT);
        if (e[0] == MADT_LOCAL_APIC) {
            BI_CHECK(TAG, e[1] == 8, F_MADT);
            bi_puts(TAG " madt lapic uid ");
            bi_dec(e[2]);
            bi_puts(" id ");
            bi_dec(e[3]);
            bi_puts(" flags ");
            bi_dec(bi_rd32(e + 4));
            bi_puts("\n");
            /* Enabled; listed in APIC id order, the BSP (id 0) first. */
            BI_CHECK(TAG, bi_rd32(e + 4) & 1, F_MADT);
            BI_CHECK(TAG, e[3] == lapics && e[2] == lapics, F_MADT);
            lapics++;
        } else if (e[0] == MADT_IOAPIC) {
            BI_CHECK(TAG, e[1] == 12, F_MADT);
            bi_puts(TAG " madt ioapic id ");
            bi_dec(e[2]);
            bi_puts(" addr ");
            bi_hexv(bi_rd32(e + 4));
            bi_puts(" gsi_base ");
            bi_dec(bi_rd32(e + 8));
            bi_puts("\n");
            BI_CHECK(TAG, bi_rd32(e + 4) == IOAPIC_BASE && bi_rd32(e + 8) == 0, F_MADT);
            ioapics++;
        }
        off += e[1];
    }
    bi_puts(TAG " madt lapics ");
    bi_dec(lapics);
    bi_puts(" ioapics ");
    bi_dec(ioapics);
    bi_puts("\n");
    BI_CHECK(TAG, ioapics == 1, F_MADT);
    BI_CHECK(TAG, lapics == ncpus, F_MADT_COUNT);
}

static void check_mcfg(const volatile uint8_t *m)
{
    bi_puts(TAG " mcfg base ");
    bi_hexv(bi_rd64(m + 44));
    bi_puts(" segment ");
    bi_dec(bi_rd16(m + 52));
    bi_puts(" buses ");
    bi_dec(m[54]);
    bi_putc('-');
    bi_dec(m[55]);
    bi_puts("\n");
    BI_CHECK(TAG, bi_rd32(m + 4) >= 60, F_MCFG);
    BI_CHECK(TAG, bi_rd64(m + 44) == ECAM_BASE && m[54] == 0 && m[55] == 255, F_MCFG);
}

static void check_acpi(uint64_t rsdp)
{
    const volatile uint8_t *r = bi_ptr(rsdp), *x, *rt;
    unsigned n, fadts = 0;

    bi_puts(TAG " rsdp ");
    bi_hexv(rsdp);
    bi_puts(" rev ");
    bi_dec(r[15]);
    bi_puts(" oem ");
    for (int i = 9; i < 15; i++)
        bi_putc((char)r[i]);
    bi_puts("\n");
    BI_CHECK(TAG, r[15] >= 2 && bi_rd32(r + 20) == 36 && bi_sum(r, 36) == 0, F_RSDP);

    x = table(bi_rd64(r + 24), "XSDT");
    rt = table(bi_rd32(r + 16), "RSDT");
    n = (bi_rd32(x + 4) - 36) / 8;
    bi_puts(TAG " xsdt entries ");
    bi_dec(n);
    bi_puts("\n");
    BI_CHECK(TAG, (bi_rd32(x + 4) - 36) % 8 == 0 && n >= 1, F_XSDT);
    BI_CHECK(TAG, bi_rd32(rt + 4) - 36 == n * 4, F_RSDT);
    for (unsigned i = 0; i < n; i++) {
        uint64_t addr = bi_rd64(x + 36 + 8 * i);
        const volatile uint8_t *t = table(addr, 0);

        BI_CHECK(TAG, bi_rd32(rt + 36 + 4 * i) == addr, F_RSDT);
        if (bi_memeq(t, "FACP", 4)) {
            check_fadt(t);
            fadts++;
        } else if (bi_memeq(t, "APIC", 4)) {
            check_madt(t);
        } else if (bi_memeq(t, "MCFG", 4)) {
            check_mcfg(t);
        }
    }
    BI_CHECK(TAG, fadts == 1, F_NO_FADT);
}

/* The MP floating pointer and configuration table (MP spec 1.4, 4). */
static void check_mp(void)
{
    const volatile uint8_t *fp = 0, *t;
    unsigned count, cpus = 0, bsps = 0;
    uint16_t len;
    uint32_t off;

    for (uintptr_t a = MP_SCAN_START; a < SCAN_END && !fp; a += 16) {
        const volatile uint8_t *p = bi_ptr(a);

        if (bi_memeq(p, "_MP_", 4) && p[8] == 1 && bi_sum(p, 16) == 0)
            fp = p;
    }
    if (!fp) {
        bi_puts("mp none\n");
        bi_fail(TAG, BI_FAIL_BASE + F_MP_FLOAT, "no MP floating pointer in 0xf0000-0xfffff");
    }
    bi_puts("mp floating ");
    bi_hexv((uintptr_t)fp);
    bi_puts(" table ");
    bi_hexv(bi_rd32(fp + 4));
    bi_puts(" spec ");
    bi_dec(fp[9]);
    bi_puts("\n");
    BI_CHECK(TAG, bi_rd32(fp + 4) != 0 && fp[11] == 0, F_MP_FLOAT);
    t = bi_ptr(bi_rd32(fp + 4));
    len = bi_rd16(t + 4);
    count = bi_rd16(t + 34);
    BI_CHECK(TAG, bi_memeq(t, "PCMP", 4) && len >= 44 && bi_sum(t, len) == 0, F_MP_TABLE);
    BI_CHECK(TAG, bi_rd32(t + 36) == LAPIC_BASE, F_MP_TABLE);
    off = 44;
    for (unsigned i = 0; i < count; i++) {
        const volatile uint8_t *e = t + off;
        unsigned size = e[0] == 0 ? 20 : 8;

        BI_CHECK(TAG, e[0] <= 4 && off + size <= len, F_MP_TABLE);
        if (e[0] == 0) {
            bi_puts("mp cpu id ");
            bi_dec(e[1]);
            bi_puts(e[3] & 1 ? " enabled" : " disabled");
            if (e[3] & 2)
                bi_puts(" bsp");
            bi_puts("\n");
            BI_CHECK(TAG, (e[3] & 1) && e[1] == cpus, F_MP_TABLE);
            bsps += (e[3] & 2) != 0;
            cpus++;
        } else if (e[0] == 2) {
            bi_puts("mp ioapic id ");
            bi_dec(e[1]);
            bi_puts(" addr ");
            bi_hexv(bi_rd32(e + 4));
            bi_puts("\n");
            BI_CHECK(TAG, bi_rd32(e + 4) == IOAPIC_BASE, F_MP_TABLE);
        }
        off += size;
    }
    BI_CHECK(TAG, off == len, F_MP_TABLE);
    bi_puts("mp cpus ");
    bi_dec(cpus);
    bi_puts(" entries ");
    bi_dec(count);
    bi_puts("\n");
    BI_CHECK(TAG, bsps == 1, F_MP_TABLE);
    BI_CHECK(TAG, cpus == ncpus, F_MP_COUNT);
}

int main(void)
{
    uint64_t rsdp;

    bi_puts(TAG " start\n");
    BI_CHECK(TAG, fw_cfg_le(0x0000, 4) == 0x554d4551, F_FW_CFG); /* "QEMU" */
    ncpus = (unsigned)fw_cfg_le(FW_CFG_NB_CPUS, 2);
    bi_puts(TAG " fw_cfg cpus ");
    bi_dec(ncpus);
    bi_puts("\n");
    BI_CHECK(TAG, ncpus >= 1 && ncpus <= MAX_CPUS, F_FW_CFG);

    rsdp = find_rsdp();
    if (rsdp)
        check_acpi(rsdp);
    else
        bi_puts(TAG " rsdp none\n");
    check_mp();
    bi_puts(TAG " ok\n");
    return BI_OK;
}
