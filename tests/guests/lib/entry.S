/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Entry for 32- and 64-bit guests: the host has put the vCPU in flat
 * protected mode or long mode with RIP here. Sets a stack and calls
 * main(arg) with arg = the incoming EDI/RDI (a vCPU index, for SMP tests).
 */
    .section .text.entry, "ax"
    .globl _start
_start:
#ifdef __x86_64__
    /* vCPU i gets the stack slice i below __stack_top. */
    mov %rdi, %rax
    shl $14, %rax
    lea __stack_top(%rip), %rsp
    sub %rax, %rsp
    call main
    mov %eax, %edi
    call guest_exit
#else
    mov %edi, %eax
    shl $14, %eax
    mov $__stack_top, %esp
    sub %eax, %esp
    push %edi
    call main
    push %eax
    call guest_exit
#endif
1:  hlt
    jmp 1b
