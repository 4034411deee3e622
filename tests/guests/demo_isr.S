/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The demo guest's interrupt entries (32-bit protected mode). Interrupts
 * only wake its main loop out of hlt: the loop itself reads COM1 and the
 * power button. They are enabled only for the `sti; hlt` of that loop, so
 * an interrupt always arrives at that hlt, and the entry goes back there
 * without iret: it drops the frame (EIP, CS, EFLAGS) and jumps to the
 * saved EIP, interrupts still off, which is what the loop wants next.
 * (Hosts whose KVM emulates guest ring 0, as the development machine's
 * does, cannot emulate a protected-mode iret: the vCPU stops with an
 * emulation failure. lea and an indirect jmp they can, and neither
 * changes the flags.)
 *
 * CPU exceptions (vectors 0-31) call demo_exception(vector), which reports
 * them and stops.
 */
#define LAPIC_EOI 0xfee000b0

    .code32
    .text

    .globl demo_irq_entry
demo_irq_entry:
    movl $0, LAPIC_EOI
    lea 12(%esp), %esp
    jmp *-12(%esp)

    /* The spurious vector: no EOI. */
    .globl demo_spurious_entry
demo_spurious_entry:
    lea 12(%esp), %esp
    jmp *-12(%esp)

    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
exc_\n:
    cli
    push $\n
    call demo_exception
    .endr

    .section .rodata
    .balign 4
    .globl demo_exception_entries
demo_exception_entries:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .long exc_\n
    .endr
