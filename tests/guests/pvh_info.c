/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A PVH kernel that checks and prints the struct hvm_start_info kvmemu
 * gives it (pvh_info.S is the entry and the note): the CPU state, magic
 * and version, the memory map, the command line, the module (its bytes
 * must follow the test's pattern; their FNV-1a checksum is printed for the
 * host to compare) and rsdp_paddr, which, when set, must point at a valid
 * RSDP. Lines start with "pvh "; see bootinfo.h for the conventions.
 */
#include "bootinfo.h"

#define TAG "pvh"

/* struct hvm_start_info (Xen's public arch-x86/hvm/start_info.h) */
#define SI_MAGIC          0x00
#define SI_VERSION        0x04
#define SI_FLAGS          0x08
#define SI_NR_MODULES     0x0c
#define SI_MODLIST_PADDR  0x10
#define SI_CMDLINE_PADDR  0x18
#define SI_RSDP_PADDR     0x20
#define SI_MEMMAP_PADDR   0x28
#define SI_MEMMAP_ENTRIES 0x30
#define SI_RESERVED       0x34
#define SI_SIZE           0x38
#define SI_MAGIC_VALUE    0x336ec578u

/* struct hvm_modlist_entry and struct hvm_memmap_table_entry */
#define MOD_PADDR         0x00
#define MOD_SIZE          0x08
#define MOD_CMDLINE_PADDR 0x10
#define MOD_ENTRY_SIZE    0x20
#define MEMMAP_ENTRY_SIZE 0x18

#define EFLAGS_IF (1u << 9)
#define EFLAGS_VM (1u << 17)
#define CR0_PE    (1u << 0)
#define CR0_ET    (1u << 4)

#define STRING_MAX 4096
#define PAGE_SIZE  0x1000u

enum {
    F_MAGIC = 1,
    F_VERSION,
    F_CPU_STATE,
    F_MEMMAP,
    F_CMDLINE,
    F_MODULE,
    F_MODULE_BYTES,
    F_RSDP,
};

extern char __image_start[], __image_end[];

int pvh_main(uint32_t si_addr, uint32_t eflags);

static long str_len(uint64_t addr, unsigned long max)
{
    const volatile char *s = (const volatile char *)(uintptr_t)addr;

    for (unsigned long i = 0; i < max; i++)
        if (!s[i])
            return (long)i;
    return -1;
}

static int overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
    return a < b_end && b < a_end;
}

static void check_cpu(uint32_t eflags)
{
    uint32_t cr0, cr4;

    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    bi_puts(TAG " eflags ");
    bi_hexv(eflags);
    bi_puts(" cr0 ");
    bi_hexv(cr0);
    bi_puts(" cr4 ");
    bi_hexv(cr4);
    bi_puts("\n");
    /* Xen's PVH ABI: PE set and every other writable CR0 bit clear (ET
     * is fixed), CR4 0, IF and VM clear. */
    BI_CHECK(TAG, !(eflags & (EFLAGS_IF | EFLAGS_VM)), F_CPU_STATE);
    BI_CHECK(TAG, (cr0 & ~CR0_ET) == CR0_PE && cr4 == 0, F_CPU_STATE);
}

static void check_memmap(const volatile uint8_t *si)
{
    uint64_t table = bi_rd64(si + SI_MEMMAP_PADDR), end = 0;
    uint32_t n = bi_rd32(si + SI_MEMMAP_ENTRIES);

    bi_puts(TAG " memmap ");
    bi_hexv(table);
    bi_puts(" entries ");
    bi_dec(n);
    bi_puts("\n");
    BI_CHECK(TAG, table != 0 && table < 0x100000000ull && n >= 1 && n <= 128, F_MEMMAP);
    for (uint32_t i = 0; i < n; i++) {
        const volatile uint8_t *e = bi_ptr(table + i * MEMMAP_ENTRY_SIZE);
        const char *bad = bi_e820_entry(TAG, bi_rd64(e), bi_rd64(e + 8), bi_rd32(e + 16), &end);

        if (bad)
            bi_fail(TAG, BI_FAIL_BASE + F_MEMMAP, bad);
        BI_CHECK(TAG, bi_rd32(e + 20) == 0, F_MEMMAP);
    }
}

static void check_module(const volatile uint8_t *si, uint64_t cmdline, long cmdline_len)
{
    uint32_t n = bi_rd32(si + SI_NR_MODULES);
    uint64_t list = bi_rd64(si + SI_MODLIST_PADDR), start, size;
    uint64_t image = (uintptr_t)__image_start, image_end = (uintptr_t)__image_end;
    uint64_t info = (uintptr_t)si;
    const volatile uint8_t *mod = bi_ptr(list);

    bi_puts(TAG " nr_modules ");
    bi_dec(n);
    bi_puts("\n");
    if (n == 0)
        return;
    BI_CHECK(TAG, n == 1 && list != 0 && list < 0x100000000ull, F_MODULE);
    start = bi_rd64(mod + MOD_PADDR);
    size = bi_rd64(mod + MOD_SIZE);
    BI_CHECK(TAG, size != 0 && start + size > start && start + size <= 0x100000000ull, F_MODULE);
    bi_puts(TAG " mod paddr ");
    bi_hexv(start);
    bi_puts(" size ");
    bi_dec(size);
    bi_puts(" fnv ");
    bi_hex(bi_fnv1a(bi_ptr(start), size), 8);
    bi_puts(" cmdline_paddr ");
    bi_hexv(bi_rd64(mod + MOD_CMDLINE_PADDR));
    bi_puts("\n");
    BI_CHECK(TAG, start % PAGE_SIZE == 0 && start >= 0x100000, F_MODULE);
    BI_CHECK(TAG, !overlaps(start, start + size, image, image_end), F_MODULE);
    BI_CHECK(TAG, !overlaps(start, start + size, info, info + SI_SIZE), F_MODULE);
    BI_CHECK(TAG, !overlaps(start, start + size, list, list + MOD_ENTRY_SIZE), F_MODULE);
    BI_CHECK(TAG, !overlaps(start, start + size, cmdline, cmdline + (uint64_t)cmdline_len + 1),
             F_MODULE);
    bi_check_pattern(TAG, "mod", bi_ptr(start), size, F_MODULE_BYTES);
}

int pvh_main(uint32_t si_addr, uint32_t eflags)
{
    const volatile uint8_t *si = bi_ptr(si_addr);
    uint64_t cmdline;
    long cmdline_len;

    bi_puts(TAG " start\n");
    check_cpu(eflags);
    bi_puts(TAG " start_info ");
    bi_hexv(si_addr);
    bi_puts(" magic ");
    bi_hexv(bi_rd32(si + SI_MAGIC));
    bi_puts(" version ");
    bi_dec(bi_rd32(si + SI_VERSION));
    bi_puts(" flags ");
    bi_hexv(bi_rd32(si + SI_FLAGS));
    bi_puts("\n");
    BI_CHECK(TAG, si_addr != 0 && bi_rd32(si + SI_MAGIC) == SI_MAGIC_VALUE, F_MAGIC);
    /* Version 1 has the memory map, which this guest reads. */
    BI_CHECK(TAG, bi_rd32(si + SI_VERSION) >= 1, F_VERSION);

    check_memmap(si);

    /* 0 says there is no command line. */
    cmdline = bi_rd64(si + SI_CMDLINE_PADDR);
    bi_puts(TAG " cmdline_paddr ");
    bi_hexv(cmdline);
    bi_puts("\n");
    cmdline_len = 0;
    if (cmdline) {
        cmdline_len = cmdline < 0x100000000ull ? str_len(cmdline, STRING_MAX) : -1;
        BI_CHECK(TAG, cmdline_len >= 0, F_CMDLINE);
        bi_puts(TAG " cmdline \"");
        bi_putsn((const volatile char *)(uintptr_t)cmdline, STRING_MAX);
        bi_puts("\"\n");
    }

    check_module(si, cmdline, cmdline_len);
    bi_check_rsdp(TAG, "rsdp_paddr", bi_rd64(si + SI_RSDP_PADDR), F_RSDP);

    bi_puts(TAG " ok\n");
    return BI_OK;
}
