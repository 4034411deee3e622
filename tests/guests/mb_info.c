/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A multiboot v1 kernel that checks and prints the multiboot information
 * kvmemu gives it (mb_info.S is the entry): the CPU state, the flags,
 * mem_lower/mem_upper against the memory map, the memory map, the command
 * line, the module (its bytes must follow the test's pattern; their FNV-1a
 * checksum is printed for the host to compare) and the boot loader name.
 * Lines start with "mb "; see bootinfo.h for the conventions.
 */
#include "bootinfo.h"

#define TAG "mb"

/* struct multiboot_info */
#define MBI_FLAGS            0
#define MBI_MEM_LOWER        4
#define MBI_MEM_UPPER        8
#define MBI_CMDLINE          16
#define MBI_MODS_COUNT       20
#define MBI_MODS_ADDR        24
#define MBI_MMAP_LENGTH      44
#define MBI_MMAP_ADDR        48
#define MBI_BOOT_LOADER_NAME 64
#define MBI_SIZE             68

#define MBI_HAS_MEM         (1u << 0)
#define MBI_HAS_CMDLINE     (1u << 2)
#define MBI_HAS_MODS        (1u << 3)
#define MBI_HAS_MMAP        (1u << 6)
#define MBI_HAS_LOADER_NAME (1u << 9)
#define MBI_EXPECTED                                                                               \
    (MBI_HAS_MEM | MBI_HAS_CMDLINE | MBI_HAS_MODS | MBI_HAS_MMAP | MBI_HAS_LOADER_NAME)

#define EFLAGS_IF (1u << 9)
#define EFLAGS_VM (1u << 17)
#define CR0_PE    (1u << 0)
#define CR0_PG    (1u << 31)

#define STRING_MAX 4096
#define PAGE_SIZE  0x1000u

enum {
    F_MAGIC = 1,
    F_CPU_STATE,
    F_FLAGS,
    F_MMAP,
    F_MEM_SIZES,
    F_CMDLINE,
    F_MODULE,
    F_MODULE_BYTES,
    F_LOADER_NAME,
};

extern char __image_start[], __image_end[];

void mb_bad_magic(uint32_t eax);
int mb_main(uint32_t mbi_addr, uint32_t eflags);

void mb_bad_magic(uint32_t eax)
{
    bi_puts(TAG " eax ");
    bi_hexv(eax);
    bi_puts("\n");
    bi_fail(TAG, BI_FAIL_BASE + F_MAGIC, "EAX is not 0x2badb002");
}

/* The length of a NUL-terminated guest string, or -1 past max bytes. */
static long str_len(uint32_t addr, unsigned long max)
{
    const volatile char *s = (const volatile char *)(uintptr_t)addr;

    for (unsigned long i = 0; i < max; i++)
        if (!s[i])
            return (long)i;
    return -1;
}

static void put_string(const char *what, uint32_t addr)
{
    bi_puts(TAG " ");
    bi_puts(what);
    bi_puts(" \"");
    bi_putsn((const volatile char *)(uintptr_t)addr, STRING_MAX);
    bi_puts("\"\n");
}

static int overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
    return a < b_end && b < a_end;
}

static void check_cpu(uint32_t eflags)
{
    uint32_t cr0;

    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    bi_puts(TAG " eflags ");
    bi_hexv(eflags);
    bi_puts(" cr0 ");
    bi_hexv(cr0);
    bi_puts("\n");
    /* Multiboot 0.6.96, 3.2: IF and VM clear, PE set, PG clear. */
    BI_CHECK(TAG, !(eflags & (EFLAGS_IF | EFLAGS_VM)), F_CPU_STATE);
    BI_CHECK(TAG, (cr0 & (CR0_PE | CR0_PG)) == CR0_PE, F_CPU_STATE);
}

/* The memory map: entries of {u32 size, u64 addr, u64 len, u32 type},
 * each `size` bytes after its size field. */
static void check_mmap(const volatile uint8_t *mbi, struct bi_ram *ram)
{
    uint32_t addr = bi_rd32(mbi + MBI_MMAP_ADDR), len = bi_rd32(mbi + MBI_MMAP_LENGTH);
    uint64_t end = 0;
    unsigned n = 0;

    BI_CHECK(TAG, addr != 0 && len >= 24, F_MMAP);
    for (uint32_t off = 0; off < len; n++) {
        const volatile uint8_t *e = bi_ptr(addr + off);
        const char *bad;

        BI_CHECK(TAG, bi_rd32(e) == 20, F_MMAP);
        BI_CHECK(TAG, len - off >= 24, F_MMAP);
        bad = bi_e820_entry(TAG, bi_rd64(e + 4), bi_rd64(e + 12), bi_rd32(e + 20), &end);
        if (bad)
            bi_fail(TAG, BI_FAIL_BASE + F_MMAP, bad);
        bi_ram_add(ram, bi_rd64(e + 4), bi_rd64(e + 12), bi_rd32(e + 20));
        off += bi_rd32(e) + 4;
    }
    bi_puts(TAG " mmap_entries ");
    bi_dec(n);
    bi_puts("\n");
}

static void check_module(const volatile uint8_t *mbi, uint32_t cmdline, long cmdline_len)
{
    uint32_t count = bi_rd32(mbi + MBI_MODS_COUNT), addr = bi_rd32(mbi + MBI_MODS_ADDR);
    const volatile uint8_t *mod = bi_ptr(addr);
    uint32_t start, end, len;
    uint64_t image = (uintptr_t)__image_start, image_end = (uintptr_t)__image_end;
    uint64_t info = (uintptr_t)mbi;

    bi_puts(TAG " mods_count ");
    bi_dec(count);
    bi_puts("\n");
    if (count == 0)
        return;
    BI_CHECK(TAG, count == 1 && addr != 0, F_MODULE);
    start = bi_rd32(mod);
    end = bi_rd32(mod + 4);
    BI_CHECK(TAG, end > start, F_MODULE);
    len = end - start;
    bi_puts(TAG " mod start ");
    bi_hexv(start);
    bi_puts(" end ");
    bi_hexv(end);
    bi_puts(" len ");
    bi_dec(len);
    bi_puts(" fnv ");
    bi_hex(bi_fnv1a(bi_ptr(start), len), 8);
    bi_puts("\n");
    BI_CHECK(TAG, bi_rd32(mod + 8) != 0 && str_len(bi_rd32(mod + 8), STRING_MAX) >= 0, F_MODULE);
    put_string("mod string", bi_rd32(mod + 8));
    /* Header flag bit 0 asked for page-aligned modules. */
    BI_CHECK(TAG, start % PAGE_SIZE == 0, F_MODULE);
    BI_CHECK(TAG, start >= 0x100000, F_MODULE);
    BI_CHECK(TAG, !overlaps(start, end, image, image_end), F_MODULE);
    BI_CHECK(TAG, !overlaps(start, end, info, info + MBI_SIZE), F_MODULE);
    BI_CHECK(TAG, !overlaps(start, end, cmdline, cmdline + (uint32_t)cmdline_len + 1), F_MODULE);
    bi_check_pattern(TAG, "mod", bi_ptr(start), len, F_MODULE_BYTES);
}

int mb_main(uint32_t mbi_addr, uint32_t eflags)
{
    const volatile uint8_t *mbi = bi_ptr(mbi_addr);
    struct bi_ram ram = { 0 };
    uint32_t flags = bi_rd32(mbi + MBI_FLAGS), lower, upper, cmdline, name;
    long cmdline_len;

    bi_puts(TAG " start\n");
    bi_puts(TAG " magic 0x2badb002\n");
    check_cpu(eflags);
    bi_puts(TAG " info ");
    bi_hexv(mbi_addr);
    bi_puts(" flags ");
    bi_hexv(flags);
    bi_puts("\n");
    BI_CHECK(TAG, mbi_addr != 0, F_FLAGS);
    BI_CHECK(TAG, (flags & MBI_EXPECTED) == MBI_EXPECTED, F_FLAGS);

    check_mmap(mbi, &ram);
    lower = bi_rd32(mbi + MBI_MEM_LOWER);
    upper = bi_rd32(mbi + MBI_MEM_UPPER);
    bi_puts(TAG " mem_lower ");
    bi_dec(lower);
    bi_puts(" mem_upper ");
    bi_dec(upper);
    bi_puts("\n");
    /* In KiB: the RAM from 0 and the RAM from 1 MiB, as the map says. */
    BI_CHECK(TAG, lower <= 640 && lower == ram.below_1m >> 10, F_MEM_SIZES);
    BI_CHECK(TAG, upper == ram.from_1m >> 10, F_MEM_SIZES);

    cmdline = bi_rd32(mbi + MBI_CMDLINE);
    cmdline_len = cmdline ? str_len(cmdline, STRING_MAX) : -1;
    BI_CHECK(TAG, cmdline_len >= 0, F_CMDLINE);
    put_string("cmdline", cmdline);
    bi_puts(TAG " cmdline_len ");
    bi_dec((uint64_t)cmdline_len);
    bi_puts("\n");

    check_module(mbi, cmdline, cmdline_len);

    name = bi_rd32(mbi + MBI_BOOT_LOADER_NAME);
    BI_CHECK(TAG, name != 0 && str_len(name, 256) > 0, F_LOADER_NAME);
    put_string("loader", name);

    bi_puts(TAG " ok\n");
    return BI_OK;
}
