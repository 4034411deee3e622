/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Executes int3 with no IDT. On this machine's nested KVM the host cannot
 * emulate it (internal error); on hardware KVM it raises #BP, which with
 * no IDT ends in a triple fault (shutdown). Either way the vCPU stops.
 */
    .section .text.entry, "ax"
    .globl _start
_start:
    int3
    hlt
