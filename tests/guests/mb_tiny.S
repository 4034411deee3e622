/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The smallest multiboot guest, for bench/startup: one byte to COM1, then a
 * write of 0 to port 0xf4 (isa-debug-exit: the VMM exits with status 1),
 * then halt. Booted as a 32-bit multiboot ELF (mb_tiny.elf) by kvmemu's
 * --kernel and by QEMU's -kernel alike: the loader leaves the CPU in flat
 * 32-bit protected mode, paging and interrupts off, EAX = 0x2BADB002.
 * Needs no stack and touches no memory besides its own code.
 */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0

    .section .text.entry, "ax"
    .code32
    /* The header must lie in the first 8 KiB of the file, 4-byte aligned;
     * with flags 0 the loader takes the addresses from the ELF. */
    .balign 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .globl _start
_start:
    mov $0x3f8, %dx
    mov $'K', %al
    out %al, %dx
    mov $0xf4, %dx
    xor %eax, %eax
    out %al, %dx
1:  hlt
    jmp 1b
