/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The entries of the bz_info guest, the payload of a synthetic bzImage
 * (bz_info.c does the rest). A 64-bit boot protocol loader enters at
 * load address + 0x200 in long mode with RSI = the zero page; the 32-bit
 * entry at offset 0 must not be used, and says so with exit code 0x41.
 */
#define FAIL_32BIT_ENTRY 0x41

    .section .text.head, "ax"
    .code32
    .globl startup_32
startup_32:
    mov $0xf4, %dx
    mov $FAIL_32BIT_ENTRY, %al
    out %al, %dx
1:  hlt
    jmp 1b

    .org 0x200
    .code64
    .globl startup_64
startup_64:
    /* No stack comes with the 64-bit entry; mov and lea change no flag,
     * so RFLAGS is still the loader's when saved. */
    mov $__stack_top, %rsp
    lea startup_64(%rip), %rdi
    /* RSI, the zero page, is already the second argument. */
    pushfq
    pop %rdx
    cli
    call bz_main
    mov %eax, %edi
    call guest_exit
2:  hlt
    jmp 2b
