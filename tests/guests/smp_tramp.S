/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The smp_boot guest's AP trampoline, copied by the BSP to TRAMP_BASE and
 * started there by a STARTUP IPI: real mode with CS = the vector << 8, then
 * flat 32-bit protected mode, where each AP reads its initial APIC id
 * (CPUID leaf 1) and its LAPIC ID register, takes a slot with lock xadd,
 * writes what it found there, counts itself once more with a lock cmpxchg
 * loop and finally with lock incl, and halts for good. No stack is used.
 */
#include "smp_boot.h"

#define T(sym) (TRAMP_BASE + ((sym) - smp_tramp_start))

    .section .rodata.smp_tramp, "a"
    .globl smp_tramp_start, smp_tramp_end
    .code16
smp_tramp_start:
    cli
    mov %cs, %ax
    mov %ax, %si            /* CS as the SIPI set it, kept for later */
    mov %ax, %ds
    lgdtl gdtr - smp_tramp_start
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, $T(pm32)

    .code32
pm32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    movzwl %si, %esi
    mov $1, %eax
    cpuid
    shr $24, %ebx
    mov 0xfee00020, %ecx
    shr $24, %ecx
    mov $1, %eax
    lock xadd %eax, TRAMP_SLOTS
    cmp $TRAMP_MAX_APS, %eax
    jae 1f
    mov %ebx, TRAMP_CPUID_IDS(, %eax, 4)
    mov %ecx, TRAMP_LAPIC_IDS(, %eax, 4)
    mov %esi, TRAMP_CS(, %eax, 4)
1:  mov TRAMP_CAS, %eax
2:  lea 1(%eax), %edx
    lock cmpxchg %edx, TRAMP_CAS
    jne 2b
    lock incl TRAMP_DONE
3:  cli
    hlt
    jmp 3b

    .balign 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff    /* 0x08: flat 32-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: flat data */
gdtr:
    .word gdtr - gdt - 1
    .long T(gdt)
smp_tramp_end:
