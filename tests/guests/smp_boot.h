/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The smp_boot guest's trampoline page, shared by smp_tramp.S (the APs'
 * code) and smp_boot.c (the BSP, which copies the code there and reads
 * what the APs wrote). Plain defines: the assembler includes this too.
 */
#ifndef SMP_BOOT_GUEST_H
#define SMP_BOOT_GUEST_H

/* Below 1 MiB, page-aligned: the STARTUP IPI's vector is its page number.
 * The boot page tables start at 0x9000, so code and data stay in this page. */
#define TRAMP_BASE   0x8000
#define TRAMP_VECTOR (TRAMP_BASE >> 12)

/* What each AP leaves, indexed by the slot its lock xadd got. */
#define TRAMP_MAX_APS   64
#define TRAMP_DATA      (TRAMP_BASE + 0x400)
#define TRAMP_SLOTS     (TRAMP_DATA + 0x00)  /* lock xadd: slots taken */
#define TRAMP_DONE      (TRAMP_DATA + 0x04)  /* lock incl: APs finished */
#define TRAMP_CAS       (TRAMP_DATA + 0x08)  /* lock cmpxchg loop: APs counted */
#define TRAMP_CPUID_IDS (TRAMP_DATA + 0x100) /* CPUID.1 EBX[31:24] */
#define TRAMP_LAPIC_IDS (TRAMP_DATA + 0x200) /* LAPIC ID register >> 24 */
#define TRAMP_CS        (TRAMP_DATA + 0x300) /* CS in real mode, at the start */
#define TRAMP_DATA_SIZE 0x400

#endif
