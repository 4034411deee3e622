/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Jumps into the MMIO window: KVM cannot fetch an instruction from a
 * device, so the vCPU stops with an emulation-failure internal error.
 */
    .section .text.entry, "ax"
    .globl _start
_start:
    mov $0xd0000000, %eax
    jmp *%rax
