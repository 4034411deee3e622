/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PVH entry of the pvh_info guest (pvh_info.c does the rest): the Xen
 * note XEN_ELFNOTE_PHYS32_ENTRY (type 18) with the 32-bit entry address,
 * and the entry itself, in flat 32-bit protected mode with EBX = struct
 * hvm_start_info. The ELF has no multiboot header: only the note makes it
 * bootable.
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4                         /* namesz: "Xen\0" */
    .long 4                         /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .long _start
    .balign 4
    .popsection

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    /* No stack comes with PVH; mov changes no flag, so EFLAGS is still
     * the loader's when saved. */
    mov $__stack_top, %esp
    pushfl
    pop %ecx
    cli
    push %ecx
    push %ebx
    call pvh_main
    push %eax
    call guest_exit
1:  hlt
    jmp 1b
