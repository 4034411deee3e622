/* SPDX-License-Identifier: GPL-2.0-or-later */
/* 256 interrupt entry stubs that call isr(vector) with all registers saved. */
    .text
    .altmacro
    .macro stub v
    .align 16
stub_\v:
    .if \v == 8 || (\v >= 10 && \v <= 14) || \v == 17
    /* The CPU pushed an error code: drop it, the guest does not need it. */
    add $8, %rsp
    .endif
    push %rax
    mov $\v, %eax
    jmp common
    .endm

    .macro entry v
    .quad stub_\v
    .endm

    .set v, 0
    .rept 256
    stub %v
    .set v, v + 1
    .endr

common:
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    push %rbx
    mov %rax, %rdi
    /* Keep the stack 16-byte aligned for the C call. */
    mov %rsp, %rbx
    and $-16, %rsp
    call isr
    mov %rbx, %rsp
    pop %rbx
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rax
    iretq

    .section .rodata
    .align 8
    .globl isr_stubs
isr_stubs:
    .set v, 0
    .rept 256
    entry %v
    .set v, v + 1
    .endr
