/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The payload of a synthetic bzImage (bz_info.S has the entries): checks
 * and prints the struct boot_params (the zero page) kvmemu gives a 64-bit
 * boot protocol kernel: where it was loaded and entered, the setup header
 * copied from the image, type_of_loader and loadflags, the e820 table, the
 * command line, the initrd (its bytes must follow the test's pattern;
 * their FNV-1a checksum is printed for the host to compare) and
 * acpi_rsdp_addr, which, when set, must point at a valid RSDP. Lines
 * start with "bz "; see bootinfo.h for the conventions.
 */
#include "bootinfo.h"

#define TAG "bz"

/* struct boot_params and its struct setup_header (Linux's bootparam.h) */
#define ZP_ACPI_RSDP_ADDR    0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE  0x0c4
#define ZP_EXT_CMD_LINE_PTR  0x0c8
#define ZP_E820_ENTRIES      0x1e8
#define ZP_SETUP_SECTS       0x1f1
#define ZP_BOOT_FLAG         0x1fe
#define ZP_HEADER            0x202
#define ZP_VERSION           0x206
#define ZP_TYPE_OF_LOADER    0x210
#define ZP_LOADFLAGS         0x211
#define ZP_RAMDISK_IMAGE     0x218
#define ZP_RAMDISK_SIZE      0x21c
#define ZP_HEAP_END_PTR      0x224
#define ZP_CMD_LINE_PTR      0x228
#define ZP_INITRD_ADDR_MAX   0x22c
#define ZP_XLOADFLAGS        0x236
#define ZP_CMDLINE_SIZE      0x238
#define ZP_SETUP_DATA        0x250
#define ZP_PREF_ADDRESS      0x258
#define ZP_INIT_SIZE         0x260
#define ZP_E820_TABLE        0x2d0
#define ZP_E820_MAX          128

#define LOADED_HIGH   0x01
#define CAN_USE_HEAP  0x80
#define XLF_KERNEL_64 0x0001

#define MSR_EFER  0xc0000080u
#define EFER_LMA  (1u << 10)
#define CR0_PG    (1ul << 31)
#define CR4_PAE   (1ul << 5)
#define EFLAGS_IF (1u << 9)

#define STRING_MAX 4096
#define PAGE_SIZE  0x1000u

enum {
    F_ENTRY32 = 1, /* bz_info.S */
    F_CPU_STATE,
    F_LOAD_ADDR,
    F_ZERO_PAGE,
    F_LOADER,
    F_E820,
    F_CMDLINE,
    F_RAMDISK,
    F_RAMDISK_BYTES,
    F_RSDP,
};

extern char __image_start[], __image_end[], startup_64[];

int bz_main(uint64_t entry, uint64_t zp_addr, uint64_t rflags);

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

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;

    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static void check_cpu(uint64_t entry, uint64_t rflags)
{
    uint64_t cr0, cr4, efer = rdmsr(MSR_EFER);

    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    bi_puts(TAG " entry ");
    bi_hexv(entry);
    bi_puts(" rflags ");
    bi_hexv(rflags);
    bi_puts(" efer ");
    bi_hexv(efer);
    bi_puts("\n");
    BI_CHECK(TAG, (efer & EFER_LMA) && (cr0 & CR0_PG) && (cr4 & CR4_PAE), F_CPU_STATE);
    BI_CHECK(TAG, !(rflags & EFLAGS_IF), F_CPU_STATE);
    /* Entered where the image was linked: load address + 0x200. */
    BI_CHECK(TAG, entry == (uintptr_t)startup_64, F_LOAD_ADDR);
    BI_CHECK(TAG, entry - 0x200 == (uintptr_t)__image_start, F_LOAD_ADDR);
}

static void check_header(const volatile uint8_t *zp, uint64_t zp_addr)
{
    bi_puts(TAG " zero_page ");
    bi_hexv(zp_addr);
    bi_puts(" boot_flag ");
    bi_hexv(bi_rd16(zp + ZP_BOOT_FLAG));
    bi_puts(" version ");
    bi_hexv(bi_rd16(zp + ZP_VERSION));
    bi_puts(" setup_sects ");
    bi_dec(zp[ZP_SETUP_SECTS]);
    bi_puts("\n");
    BI_CHECK(TAG, zp_addr != 0 && zp_addr % PAGE_SIZE == 0, F_ZERO_PAGE);
    BI_CHECK(TAG, bi_rd16(zp + ZP_BOOT_FLAG) == 0xaa55, F_ZERO_PAGE);
    BI_CHECK(TAG, bi_memeq(zp + ZP_HEADER, "HdrS", 4), F_ZERO_PAGE);
    BI_CHECK(TAG, bi_rd16(zp + ZP_VERSION) >= 0x020c, F_ZERO_PAGE);
    BI_CHECK(TAG, bi_rd16(zp + ZP_XLOADFLAGS) & XLF_KERNEL_64, F_ZERO_PAGE);
    /* The kernel's own fields come through as the image had them. */
    BI_CHECK(TAG, bi_rd64(zp + ZP_PREF_ADDRESS) == (uintptr_t)__image_start, F_ZERO_PAGE);
    BI_CHECK(TAG, bi_rd32(zp + ZP_INIT_SIZE) >= (uintptr_t)(__image_end - __image_start),
             F_ZERO_PAGE);

    bi_puts(TAG " type_of_loader ");
    bi_hexv(zp[ZP_TYPE_OF_LOADER]);
    bi_puts(" loadflags ");
    bi_hexv(zp[ZP_LOADFLAGS]);
    bi_puts(" heap_end_ptr ");
    bi_hexv(bi_rd16(zp + ZP_HEAP_END_PTR));
    bi_puts(" setup_data ");
    bi_hexv(bi_rd64(zp + ZP_SETUP_DATA));
    bi_puts("\n");
    /* A loader must set type_of_loader (0xff: undefined, not 0). Without
     * the real-mode setup there is no heap, and nothing to chain. */
    BI_CHECK(TAG, zp[ZP_TYPE_OF_LOADER] != 0, F_LOADER);
    BI_CHECK(TAG, (zp[ZP_LOADFLAGS] & (LOADED_HIGH | CAN_USE_HEAP)) == LOADED_HIGH, F_LOADER);
    BI_CHECK(TAG, bi_rd64(zp + ZP_SETUP_DATA) == 0, F_LOADER);
}

/* The table, and that the kernel's init_size fits in one RAM entry. */
static void check_e820(const volatile uint8_t *zp)
{
    unsigned n = zp[ZP_E820_ENTRIES];
    uint64_t end = 0, kernel = (uintptr_t)__image_start;
    uint64_t kernel_end = kernel + bi_rd32(zp + ZP_INIT_SIZE);
    int kernel_in_ram = 0;

    bi_puts(TAG " e820_entries ");
    bi_dec(n);
    bi_puts("\n");
    BI_CHECK(TAG, n >= 1 && n <= ZP_E820_MAX, F_E820);
    for (unsigned i = 0; i < n; i++) {
        const volatile uint8_t *e = zp + ZP_E820_TABLE + 20 * i;
        uint64_t addr = bi_rd64(e), size = bi_rd64(e + 8);
        uint32_t type = bi_rd32(e + 16);
        const char *bad = bi_e820_entry(TAG, addr, size, type, &end);

        if (bad)
            bi_fail(TAG, BI_FAIL_BASE + F_E820, bad);
        if (type == BI_E820_RAM && addr <= kernel && kernel_end <= addr + size)
            kernel_in_ram = 1;
    }
    BI_CHECK(TAG, kernel_in_ram, F_E820);
}

static long check_cmdline(const volatile uint8_t *zp)
{
    uint64_t ptr = bi_rd32(zp + ZP_CMD_LINE_PTR) | (uint64_t)bi_rd32(zp + ZP_EXT_CMD_LINE_PTR)
                                                       << 32;
    uint32_t size = bi_rd32(zp + ZP_CMDLINE_SIZE);
    long len;

    bi_puts(TAG " cmd_line_ptr ");
    bi_hexv(ptr);
    bi_puts(" cmdline_size ");
    bi_dec(size);
    bi_puts("\n");
    BI_CHECK(TAG, ptr != 0 && ptr < 0x100000000ull, F_CMDLINE);
    len = str_len(ptr, STRING_MAX);
    BI_CHECK(TAG, len >= 0 && (uint64_t)len <= size, F_CMDLINE);
    bi_puts(TAG " cmdline \"");
    bi_putsn((const volatile char *)(uintptr_t)ptr, STRING_MAX);
    bi_puts("\"\n");
    return len;
}

static void check_ramdisk(const volatile uint8_t *zp, long cmdline_len)
{
    uint64_t start = bi_rd32(zp + ZP_RAMDISK_IMAGE) | (uint64_t)bi_rd32(zp + ZP_EXT_RAMDISK_IMAGE)
                                                          << 32;
    uint64_t size = bi_rd32(zp + ZP_RAMDISK_SIZE) | (uint64_t)bi_rd32(zp + ZP_EXT_RAMDISK_SIZE)
                                                        << 32;
    uint64_t kernel = (uintptr_t)__image_start, kernel_end = kernel + bi_rd32(zp + ZP_INIT_SIZE);
    uint64_t cmdline = bi_rd32(zp + ZP_CMD_LINE_PTR), zp_addr = (uintptr_t)zp;
    uint64_t max = bi_rd32(zp + ZP_INITRD_ADDR_MAX);

    bi_puts(TAG " ramdisk_image ");
    bi_hexv(start);
    bi_puts(" ramdisk_size ");
    bi_dec(size);
    if (size)
        bi_puts(" fnv ");
    if (size)
        bi_hex(bi_fnv1a(bi_ptr(start), size), 8);
    bi_puts("\n");
    if (size == 0) {
        BI_CHECK(TAG, start == 0, F_RAMDISK);
        return;
    }
    BI_CHECK(TAG, start % PAGE_SIZE == 0 && start >= 0x100000, F_RAMDISK);
    BI_CHECK(TAG, start + size > start && start + size - 1 <= max, F_RAMDISK);
    BI_CHECK(TAG, !overlaps(start, start + size, kernel, kernel_end), F_RAMDISK);
    BI_CHECK(TAG, !overlaps(start, start + size, zp_addr, zp_addr + PAGE_SIZE), F_RAMDISK);
    BI_CHECK(TAG, !overlaps(start, start + size, cmdline, cmdline + (uint64_t)cmdline_len + 1),
             F_RAMDISK);
    bi_check_pattern(TAG, "ramdisk", bi_ptr(start), size, F_RAMDISK_BYTES);
}

int bz_main(uint64_t entry, uint64_t zp_addr, uint64_t rflags)
{
    const volatile uint8_t *zp = bi_ptr(zp_addr);
    long cmdline_len;

    bi_puts(TAG " start\n");
    check_cpu(entry, rflags);
    check_header(zp, zp_addr);
    check_e820(zp);
    cmdline_len = check_cmdline(zp);
    check_ramdisk(zp, cmdline_len);
    bi_check_rsdp(TAG, "acpi_rsdp_addr", bi_rd64(zp + ZP_ACPI_RSDP_ADDR), F_RSDP);
    bi_puts(TAG " ok\n");
    return BI_OK;
}
