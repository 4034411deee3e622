/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The FADT (ACPI 6.x, 5.2.9), revision 6: where the fixed hardware is.
 *
 * With the PM device (cfg->pm) this is a full ACPI PC: PM1a event and
 * control blocks and the PM timer in the PIIX4-like I/O block at
 * EM_PM_IO_BASE, the SCI on EM_SCI_GSI, and no SMI command port, which
 * says ACPI is always enabled (PM1_CNT.SCI_EN reads 1). Without it there
 * is no fixed hardware to describe, and the table says hardware-reduced
 * ACPI. The reset register (0xcf9) comes with the PCI host (cfg->pci),
 * which serves it inside its configuration address port.
 */
#include "acpi/tables.h"
#include "dev/pm.h"
#include "memmap.h"

#define FADT_REVISION       6
#define FADT_MINOR_REVISION 0
#define FADT_SIZE           276

/* Flags (5.2.9, table 5.10). */
#define FADT_WBINVD             (1u << 0)
#define FADT_PROC_C1            (1u << 2)
#define FADT_SLP_BUTTON         (1u << 5) /* set: no fixed sleep button */
#define FADT_FIX_RTC            (1u << 6) /* set: no RTC wake status in PM1 */
#define FADT_RESET_REG_SUP      (1u << 10)
#define FADT_USE_PLATFORM_CLOCK (1u << 15)
#define FADT_HW_REDUCED_ACPI    (1u << 20)

/* IA-PC boot architecture flags (5.2.9.3). */
#define BOOT_LEGACY_DEVICES  (1u << 0)
#define BOOT_8042            (1u << 1)
#define BOOT_VGA_NOT_PRESENT (1u << 2)

/* The PM I/O block, as dev/pm.c serves it. */
#define PM1_EVT_LEN 4 /* PM1_STS, PM1_EN */
#define PM1_CNT_LEN 2
#define PM_TMR_LEN  4

#define RESET_VALUE 0x06 /* "full reset" on a PIIX's reset control register */
#define CENTURY_REG 0x32 /* the RTC's CMOS century byte */

/* Latencies above these maxima say C2 and C3 are not supported. */
#define NO_C2_LATENCY 101
#define NO_C3_LATENCY 1001

void em_acpi_fadt(struct em_aml *a, const struct em_acpi_config *cfg, uint64_t facs, uint64_t dsdt)
{
    size_t start = em_acpi_table_begin(a, "FACP", FADT_REVISION);
    uint32_t pm1_evt = cfg->pm ? EM_PM_IO_BASE : 0;
    uint32_t pm1_cnt = cfg->pm ? EM_PM_IO_BASE + EM_PM1_CNT : 0;
    uint32_t pm_tmr = cfg->pm ? EM_PM_IO_BASE + EM_PM_TMR : 0;
    uint32_t flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC;

    if (cfg->pm)
        flags |= FADT_USE_PLATFORM_CLOCK;
    else
        flags |= FADT_HW_REDUCED_ACPI;
    if (cfg->pci)
        flags |= FADT_RESET_REG_SUP;

    em_aml_u32(a, (uint32_t)facs);
    em_aml_u32(a, (uint32_t)dsdt);
    em_aml_u8(a, 0);                         /* reserved (was INT_MODEL) */
    em_aml_u8(a, 0);                         /* preferred PM profile: unspecified */
    em_aml_u16(a, cfg->pm ? EM_SCI_GSI : 0); /* SCI_INT */
    em_aml_u32(a, 0);                        /* SMI_CMD: ACPI always enabled */
    em_aml_u8(a, 0);                         /* ACPI_ENABLE */
    em_aml_u8(a, 0);                         /* ACPI_DISABLE */
    em_aml_u8(a, 0);                         /* S4BIOS_REQ */
    em_aml_u8(a, 0);                         /* PSTATE_CNT */
    em_aml_u32(a, pm1_evt);                  /* PM1a_EVT_BLK */
    em_aml_u32(a, 0);                        /* PM1b_EVT_BLK */
    em_aml_u32(a, pm1_cnt);                  /* PM1a_CNT_BLK */
    em_aml_u32(a, 0);                        /* PM1b_CNT_BLK */
    em_aml_u32(a, 0);                        /* PM2_CNT_BLK */
    em_aml_u32(a, pm_tmr);                   /* PM_TMR_BLK */
    em_aml_u32(a, 0);                        /* GPE0_BLK */
    em_aml_u32(a, 0);                        /* GPE1_BLK */
    em_aml_u8(a, cfg->pm ? PM1_EVT_LEN : 0); /* PM1_EVT_LEN */
    em_aml_u8(a, cfg->pm ? PM1_CNT_LEN : 0); /* PM1_CNT_LEN */
    em_aml_u8(a, 0);                         /* PM2_CNT_LEN */
    em_aml_u8(a, cfg->pm ? PM_TMR_LEN : 0);  /* PM_TMR_LEN */
    em_aml_u8(a, 0);                         /* GPE0_BLK_LEN */
    em_aml_u8(a, 0);                         /* GPE1_BLK_LEN */
    em_aml_u8(a, 0);                         /* GPE1_BASE */
    em_aml_u8(a, 0);                         /* CST_CNT */
    em_aml_u16(a, NO_C2_LATENCY);            /* P_LVL2_LAT */
    em_aml_u16(a, NO_C3_LATENCY);            /* P_LVL3_LAT */
    em_aml_u16(a, 0);                        /* FLUSH_SIZE */
    em_aml_u16(a, 0);                        /* FLUSH_STRIDE */
    em_aml_u8(a, 0);                         /* DUTY_OFFSET */
    em_aml_u8(a, 0);                         /* DUTY_WIDTH */
    em_aml_u8(a, 0);                         /* DAY_ALRM */
    em_aml_u8(a, 0);                         /* MON_ALRM */
    em_aml_u8(a, CENTURY_REG);               /* CENTURY */
    em_aml_u16(a, BOOT_LEGACY_DEVICES | BOOT_8042 | BOOT_VGA_NOT_PRESENT);
    em_aml_u8(a, 0); /* reserved */
    em_aml_u32(a, flags);
    if (cfg->pci)
        em_acpi_gas(a, EM_GAS_IO, 8, EM_GAS_BYTE, EM_RESET_PORT); /* RESET_REG */
    else
        em_aml_zeros(a, 12);
    em_aml_u8(a, cfg->pci ? RESET_VALUE : 0); /* RESET_VALUE */
    em_aml_u16(a, 0);                         /* ARM_BOOT_ARCH */
    em_aml_u8(a, FADT_MINOR_REVISION);
    em_aml_u64(a, 0);    /* X_FIRMWARE_CTRL: must be 0 when FIRMWARE_CTRL is set */
    em_aml_u64(a, dsdt); /* X_DSDT */
    if (cfg->pm) {
        em_acpi_gas(a, EM_GAS_IO, PM1_EVT_LEN * 8, EM_GAS_WORD, pm1_evt);
        em_aml_zeros(a, 12); /* X_PM1b_EVT_BLK */
        em_acpi_gas(a, EM_GAS_IO, PM1_CNT_LEN * 8, EM_GAS_WORD, pm1_cnt);
        em_aml_zeros(a, 12); /* X_PM1b_CNT_BLK */
        em_aml_zeros(a, 12); /* X_PM2_CNT_BLK */
        em_acpi_gas(a, EM_GAS_IO, PM_TMR_LEN * 8, EM_GAS_DWORD, pm_tmr);
    } else {
        em_aml_zeros(a, 6 * 12);
    }
    em_aml_zeros(a, 12);            /* X_GPE0_BLK */
    em_aml_zeros(a, 12);            /* X_GPE1_BLK */
    em_aml_zeros(a, 12);            /* SLEEP_CONTROL_REG */
    em_aml_zeros(a, 12);            /* SLEEP_STATUS_REG */
    em_aml_bytes(a, "KVMSTK  ", 8); /* hypervisor vendor identity */
    if (!a->failed && a->len - start != FADT_SIZE)
        em_aml_fail(a, "the FADT's layout is wrong");
    em_acpi_table_end(a, start);
}
