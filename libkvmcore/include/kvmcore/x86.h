/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Putting a vCPU into a given x86 mode, as firmware or a boot loader would
 * have left it: real mode, flat 32-bit protected mode, or 64-bit long mode
 * with identity-mapped page tables. Used by the tests, the example and the
 * emulator's loaders, so there is one tested copy of these tables.
 */
#ifndef KVMCORE_X86_H
#define KVMCORE_X86_H

#include <stdint.h>

#include <kvmcore/mem.h>
#include <kvmcore/vcpu.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Selectors in the boot GDT that kc_x86_write_gdt() writes. 0x10 and 0x18
 * are what the Linux boot protocol calls __BOOT_CS and __BOOT_DS. */
#define KC_X86_SEL_CODE32 0x08
#define KC_X86_SEL_CODE64 0x10
#define KC_X86_SEL_DATA   0x18
#define KC_X86_GDT_SIZE   (4 * 8)

/* Bytes of page tables kc_x86_setup_long_mode() writes: a PML4, a PDPT and
 * four page directories of 2 MiB pages, identity-mapping the first 4 GiB. */
#define KC_X86_PAGE_TABLES_SIZE (6 * 4096)

/* Writes the boot GDT (null, flat code32, code64, flat data) at gdt_gpa. */
int kc_x86_write_gdt(const struct kc_mem *mem, uint64_t gdt_gpa);

/* Writes identity-mapping page tables at pt_gpa (4 KiB aligned) and
 * returns the CR3 value through *cr3. */
int kc_x86_write_page_tables(const struct kc_mem *mem, uint64_t pt_gpa, uint64_t *cr3);

/* Real mode with CS = cs (base cs << 4), IP = ip, other segments = cs,
 * interrupts off. */
int kc_x86_setup_real_mode(struct kc_vcpu *vcpu, uint16_t cs, uint16_t ip);

/* Flat 32-bit protected mode, paging off, RIP = entry; writes the GDT. */
int kc_x86_setup_protected_mode(struct kc_vcpu *vcpu, uint64_t gdt_gpa, uint64_t entry);

/* 64-bit long mode, RIP = entry, with the GDT at gdt_gpa and identity page
 * tables at pt_gpa. The vCPU's CPUID must include long mode (the default). */
int kc_x86_setup_long_mode(struct kc_vcpu *vcpu, uint64_t gdt_gpa, uint64_t pt_gpa, uint64_t entry);

#ifdef __cplusplus
}
#endif

#endif
