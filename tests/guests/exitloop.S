/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Real mode: port exits back to back, for bench/exit-rate. */
    .code16
    .text
    .globl _start
_start:
1:  out %al, $0x80
    jmp 1b
