/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A multiboot v1 entry for guests that boot like a kernel (kvmemu
 * --kernel, and so a domain's <kernel> under mgmtd): the header, then,
 * in flat 32-bit protected mode, a stack and main(); its return value
 * ends the run through the debug-exit port, as for the flat guests.
 */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000003

    .section .text.entry, "ax"
    .code32
    .balign 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .globl _start
_start:
    mov $__stack_top, %esp
    cli
    push %ebx
    call main
    push %eax
    call guest_exit
1:  hlt
    jmp 1b
