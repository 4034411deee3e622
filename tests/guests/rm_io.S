/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Real mode (CS = 0x100): the same port and MMIO sequence as io.c, with
 * the MMIO window at linear 0xd0000 reached through ES = 0xd000.
 */
    .code16
    .text
    .globl _start
_start:
    mov $0xf000, %sp
    mov $0x600, %dx
    mov $0x11, %al
    out %al, %dx
    mov $0x602, %dx
    mov $0x2233, %ax
    out %ax, %dx
    mov $0x604, %dx
    mov $0x44556677, %eax
    out %eax, %dx

    mov $0x601, %dx
    xor %eax, %eax
    in %dx, %al
    call report
    mov $0x602, %dx
    xor %eax, %eax
    in %dx, %ax
    call report
    mov $0x604, %dx
    in %dx, %eax
    call report

    mov $0xd000, %ax
    mov %ax, %es
    movb $0xaa, %es:0x10
    movw $0xbbcc, %es:0x12
    movl $0xddeeff00, %es:0x14
    movzbl %es:0x21, %eax
    call report
    movzwl %es:0x22, %eax
    call report
    movl %es:0x24, %eax
    call report

    xor %al, %al
    out %al, $0xf4
1:  hlt
    jmp 1b

report:
    push %dx
    mov $0x610, %dx
    out %eax, %dx
    pop %dx
    ret
