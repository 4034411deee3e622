/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The multiboot v1 entry of the mb_info guest (mb_info.c does the rest):
 * the header (page-aligned modules and memory information required, the
 * addresses from the ELF), then the entry, in flat 32-bit protected mode
 * with EAX = 0x2BADB002 and EBX = the multiboot information. A wrong EAX
 * ends the run here, with exit code 0x41 after a FAIL line.
 */
#define MB_MAGIC      0x1badb002
#define MB_FLAGS      0x00000003
#define MB_BOOT_MAGIC 0x2badb002

    .section .text.entry, "ax"
    .code32
    .balign 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .globl _start
_start:
    /* mov changes no flag: EFLAGS is still the loader's when saved. */
    mov $__stack_top, %esp
    pushfl
    pop %ecx
    cli
    cmp $MB_BOOT_MAGIC, %eax
    jne 1f
    push %ecx
    push %ebx
    call mb_main
    push %eax
    call guest_exit
1:  push %eax
    call mb_bad_magic
2:  hlt
    jmp 2b
