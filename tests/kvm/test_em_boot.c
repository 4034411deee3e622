/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What kvmemu's kernel loaders hand a guest, read back by the guest under
 * the real kvmemu and KVM: the multiboot information (mb_info), the PVH
 * start_info (pvh_info) and the bzImage zero page (bz_info, the payload
 * of a bzImage composed here). Each guest checks what it can and prints
 * what it found; here the printed values are compared with what the test
 * passed (command line, initrd bytes, RAM size) and with kvmemu's layout
 * (em_memmap_init). Then malformed images through the same binary: one
 * error line naming the file, status 1, and no vCPU ever started.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootinfo_host.h"
#include "memmap.h"

#define TIMEOUT_MS 60000
#define MIB        (1ull << 20)

static struct emu emu;
static struct bi_tmp tmp;

/* The scratch directory belongs to the runner (an unchecked fixture), so
 * that it goes away even after a failed test, whose checked teardown Check
 * does not run. Tests run one after the other and rewrite what they use. */
static void tmp_setup(void)
{
    bi_tmp_init(&tmp);
}

static void tmp_teardown(void)
{
    bi_tmp_cleanup(&tmp);
}

static void teardown(void)
{
    emu_cleanup(&emu);
}

/* "<tag> mod start 0x.. end 0x.. len N fnv X" and its kin: the module's
 * place and checksum, checked against the initrd the test wrote. */
static void expect_module(uint64_t start, uint64_t len, uint32_t fnv, uint32_t want_fnv,
                          uint64_t ram_below_4g)
{
    ck_assert_uint_eq(len, BI_INITRD_LEN);
    ck_assert_msg(fnv == want_fnv, "the guest's checksum of the initrd is %08x, the file's %08x",
                  fnv, want_fnv);
    ck_assert_uint_eq(start % 4096, 0);
    ck_assert_uint_ge(start, EM_HIGH_MEM_START);
    ck_assert_uint_le(start + len, ram_below_4g);
}

/* ---- multiboot ---- */

START_TEST(multiboot_info_has_everything)
{
    const char *kernel = bi_guest("mb_info", "elf"), *initrd = bi_tmp_path(&tmp, "initrd.img");
    uint32_t fnv = bi_write_pattern(initrd, BI_INITRD_LEN), got_fnv;
    uint64_t below_1m, from_1m, below_4g, ram = 64 * MIB;
    unsigned long long start, end, len;
    const char *line;
    int status;

    status = bi_run(&emu, "multiboot, 64M, initrd, append",
                    (const char *[]){ "--kernel", kernel, "--initrd", initrd, "--append",
                                      "mbtest alpha=1 beta=two", "--memory", "64M", "--debug-exit",
                                      NULL },
                    TIMEOUT_MS);
    bi_expect_ok(&emu, "mb", status);
    bi_expect_line(&emu, "mb magic 0x2badb002");
    /* The information at EM_BOOT_INFO with memory, cmdline, mods, mmap
     * and the loader's name (flag bits 0, 2, 3, 6, 9). */
    bi_expect_line(&emu, "mb info 0x%llx flags 0x24d", (unsigned long long)EM_BOOT_INFO);
    bi_expect_e820(&emu, "mb", ram);
    bi_ram_sizes(ram, &below_1m, &from_1m, &below_4g);
    bi_expect_line(&emu, "mb mem_lower %llu mem_upper %llu", (unsigned long long)(below_1m >> 10),
                   (unsigned long long)(from_1m >> 10));
    /* kvmemu's multiboot command line is "<kernel path> <append>", as
     * GRUB and QEMU give it. */
    bi_expect_line(&emu, "mb cmdline \"%s mbtest alpha=1 beta=two\"", kernel);
    bi_expect_line(&emu, "mb cmdline_len %zu", strlen(kernel) + strlen(" mbtest alpha=1 beta=two"));
    bi_expect_line(&emu, "mb mods_count 1");
    line = bi_find_line(emu.out.buf, "mb mod start ");
    ck_assert_msg(line, "%s", bi_flat(emu.out.buf));
    ck_assert_int_eq(
        sscanf(line, "mb mod start %llx end %llx len %llu fnv %x", &start, &end, &len, &got_fnv),
        4);
    ck_assert_uint_eq(end - start, len);
    expect_module(start, len, got_fnv, fnv, below_4g);
    bi_expect_line(&emu, "mb mod string \"%s\"", initrd);
    bi_expect_line(&emu, "mb mod pattern ok");
    bi_expect_line(&emu, "mb loader \"kvmemu\"");
}
END_TEST

START_TEST(multiboot_without_append_or_initrd_above_4g)
{
    const char *kernel = bi_guest("mb_info", "elf");
    uint64_t below_1m, from_1m, below_4g, ram = 5ull << 30;
    int status;

    /* High RAM too: mem_upper is the RAM from 1 MiB up to the PCI hole,
     * the map has the rest above 4 GiB. Nothing touches it. */
    status = bi_run(&emu, "multiboot, 5G, nothing else",
                    (const char *[]){ "--kernel", kernel, "--memory", "5G", "--debug-exit", NULL },
                    TIMEOUT_MS);
    bi_expect_ok(&emu, "mb", status);
    bi_expect_e820(&emu, "mb", ram);
    bi_expect_line(&emu, "mb e820 0000000100000000 0000000080000000 1");
    bi_ram_sizes(ram, &below_1m, &from_1m, &below_4g);
    bi_expect_line(&emu, "mb mem_lower %llu mem_upper %llu", (unsigned long long)(below_1m >> 10),
                   (unsigned long long)(from_1m >> 10));
    bi_expect_line(&emu, "mb cmdline \"%s\"", kernel);
    bi_expect_line(&emu, "mb mods_count 0");
    ck_assert_ptr_null(bi_find_line(emu.out.buf, "mb mod "));
}
END_TEST

/* ---- PVH ---- */

START_TEST(pvh_start_info_has_everything)
{
    const char *kernel = bi_guest("pvh_info", "elf"), *initrd = bi_tmp_path(&tmp, "initrd.img");
    uint32_t fnv = bi_write_pattern(initrd, BI_INITRD_LEN), got_fnv;
    uint64_t below_1m, from_1m, below_4g, ram = 64 * MIB;
    unsigned long long start, len;
    struct em_memmap mm;
    const char *line;
    int status;

    status = bi_run(&emu, "PVH, 64M, initrd, append, ACPI",
                    (const char *[]){ "--kernel", kernel, "--initrd", initrd, "--append",
                                      "pvhtest console=ttyS0 x=\"y z\"", "--memory", "64M",
                                      "--debug-exit", NULL },
                    TIMEOUT_MS);
    bi_expect_ok(&emu, "pvh", status);
    bi_expect_line(&emu, "pvh start_info 0x%llx magic 0x336ec578 version 1 flags 0x0",
                   (unsigned long long)EM_BOOT_INFO);
    em_memmap_init(&mm, ram);
    ck_assert_ptr_nonnull(bi_find_line(emu.out.buf, "pvh memmap 0x"));
    ck_assert_msg(strstr(bi_find_line(emu.out.buf, "pvh memmap 0x"), " entries "), "%s",
                  bi_flat(emu.out.buf));
    ck_assert_uint_eq(
        strtoul(strstr(bi_find_line(emu.out.buf, "pvh memmap 0x"), " entries ") + 9, NULL, 10),
        mm.nr_e820);
    bi_expect_e820(&emu, "pvh", ram);
    /* PVH passes --append as it is. */
    bi_expect_line(&emu, "pvh cmdline \"pvhtest console=ttyS0 x=\"y z\"\"");
    bi_expect_line(&emu, "pvh nr_modules 1");
    line = bi_find_line(emu.out.buf, "pvh mod paddr ");
    ck_assert_msg(line, "%s", bi_flat(emu.out.buf));
    ck_assert_int_eq(sscanf(line, "pvh mod paddr %llx size %llu fnv %x", &start, &len, &got_fnv),
                     3);
    bi_ram_sizes(ram, &below_1m, &from_1m, &below_4g);
    expect_module(start, len, got_fnv, fnv, below_4g);
    bi_expect_line(&emu, "pvh mod pattern ok");
    /* The RSDP is where kvmemu builds the ACPI tables. */
    bi_expect_line(&emu, "pvh rsdp_paddr 0x%llx", (unsigned long long)EM_ACPI_BASE);
    bi_expect_line(&emu, "pvh rsdp signature \"RSD PTR \" revision 2 checksums ok");
}
END_TEST

START_TEST(pvh_without_acpi_initrd_or_append)
{
    int status;

    status = bi_run(&emu, "PVH, 32M, --no-acpi",
                    (const char *[]){ "--kernel", bi_guest("pvh_info", "elf"), "--no-acpi",
                                      "--memory", "32M", "--debug-exit", NULL },
                    TIMEOUT_MS);
    bi_expect_ok(&emu, "pvh", status);
    bi_expect_e820(&emu, "pvh", 32 * MIB);
    bi_expect_line(&emu, "pvh rsdp_paddr 0x0");
    ck_assert_ptr_null(strstr(emu.out.buf, "RSD PTR"));
    bi_expect_line(&emu, "pvh nr_modules 0");
    bi_expect_line(&emu, "pvh cmdline \"\"");
}
END_TEST

/* ---- bzImage ---- */

/* The image composed around bz_info.bin: a 2-sector setup area (boot
 * sector and one more) with a protocol 2.15 header, then the payload. */
#define BZ_SETUP_SECTS  1
#define BZ_SETUP_BYTES  ((BZ_SETUP_SECTS + 1) * 512)
#define BZ_LOAD_ADDR    0x1000000ull /* where bz_payload.ld links it */
#define BZ_INIT_SIZE    0x100000u    /* up to the guest's stack top */
#define BZ_CMDLINE_SIZE 2047u
#define BZ_HEAP_END     0xfe00u     /* the image's; kvmemu must clear it */
#define BZ_SETUP_DATA   0xdead0000u /* likewise */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* Writes the bzImage to path; returns its size. */
static size_t make_bzimage(const char *path)
{
    size_t plen, padded, len;
    uint8_t *payload = bi_read_file(bi_guest("bz_info", "bin"), &plen);
    uint8_t *img, *h;

    padded = (plen + 15) & ~(size_t)15;
    ck_assert_uint_le(padded, BZ_INIT_SIZE / 2);
    len = BZ_SETUP_BYTES + padded;
    img = calloc(1, len);
    ck_assert_ptr_nonnull(img);
    h = img;
    h[0x1f1] = BZ_SETUP_SECTS;
    put32(h + 0x1f4, (uint32_t)(padded / 16)); /* syssize */
    put16(h + 0x1fe, 0xaa55);                  /* boot_flag */
    h[0x200] = 0xeb;                           /* jmp over the header ... */
    h[0x201] = 0x66;                           /* ... which ends at 0x268 */
    memcpy(h + 0x202, "HdrS", 4);
    put16(h + 0x206, 0x020f);          /* version 2.15 */
    h[0x211] = 0x81;                   /* loadflags: LOADED_HIGH | CAN_USE_HEAP */
    put16(h + 0x224, BZ_HEAP_END);     /* heap_end_ptr */
    put32(h + 0x22c, 0x7fffffff);      /* initrd_addr_max */
    put32(h + 0x230, 0x200000);        /* kernel_alignment */
    h[0x234] = 0;                      /* relocatable_kernel: no */
    put16(h + 0x236, 0x0001);          /* xloadflags: XLF_KERNEL_64 */
    put32(h + 0x238, BZ_CMDLINE_SIZE); /* cmdline_size */
    put64(h + 0x250, BZ_SETUP_DATA);   /* setup_data */
    put64(h + 0x258, BZ_LOAD_ADDR);    /* pref_address */
    put32(h + 0x260, BZ_INIT_SIZE);    /* init_size */
    memcpy(img + BZ_SETUP_BYTES, payload, plen);
    bi_write_file(path, img, len);
    free(img);
    free(payload);
    return len;
}

START_TEST(bzimage_zero_page_has_everything)
{
    const char *kernel = bi_tmp_path(&tmp, "k.img"), *initrd = bi_tmp_path(&tmp, "initrd.img");
    uint32_t fnv = bi_write_pattern(initrd, BI_INITRD_LEN), got_fnv;
    uint64_t below_1m, from_1m, below_4g, ram = 64 * MIB;
    unsigned long long start, len;
    const char *line;
    int status;

    make_bzimage(kernel);
    status = bi_run(&emu, "bzImage, 64M, initrd, append, ACPI",
                    (const char *[]){ "--kernel", kernel, "--initrd", initrd, "--append",
                                      "bztest root=/dev/vda quiet", "--memory", "64M",
                                      "--debug-exit", NULL },
                    TIMEOUT_MS);
    bi_expect_ok(&emu, "bz", status);
    /* Loaded at pref_address, entered at +0x200 in long mode with RSI =
     * the zero page at EM_BOOT_INFO. */
    line = bi_find_line(emu.out.buf, "bz entry ");
    ck_assert_msg(line && !strncmp(line, "bz entry 0x1000200 ", 19), "%s", bi_flat(emu.out.buf));
    bi_expect_line(&emu, "bz zero_page 0x%llx boot_flag 0xaa55 version 0x20f setup_sects %d",
                   (unsigned long long)EM_BOOT_INFO, BZ_SETUP_SECTS);
    /* type_of_loader 0xff ("undefined"); CAN_USE_HEAP, heap_end_ptr and
     * setup_data of the image cleared: no setup code ran, nothing chains. */
    bi_expect_line(&emu, "bz type_of_loader 0xff loadflags 0x1 heap_end_ptr 0x0 setup_data 0x0");
    bi_expect_e820(&emu, "bz", ram);
    bi_expect_line(&emu, "bz e820_entries %u", bi_count_lines(emu.out.buf, "bz e820 "));
    bi_expect_line(&emu, "bz cmd_line_ptr 0x%llx cmdline_size %u",
                   (unsigned long long)EM_BOOT_CMDLINE, BZ_CMDLINE_SIZE);
    bi_expect_line(&emu, "bz cmdline \"bztest root=/dev/vda quiet\"");
    line = bi_find_line(emu.out.buf, "bz ramdisk_image ");
    ck_assert_msg(line, "%s", bi_flat(emu.out.buf));
    ck_assert_int_eq(
        sscanf(line, "bz ramdisk_image %llx ramdisk_size %llu fnv %x", &start, &len, &got_fnv), 3);
    bi_ram_sizes(ram, &below_1m, &from_1m, &below_4g);
    expect_module(start, len, got_fnv, fnv, below_4g);
    ck_assert_msg(start >= BZ_LOAD_ADDR + BZ_INIT_SIZE || start + len <= BZ_LOAD_ADDR,
                  "the initrd at 0x%llx overlaps the kernel's init_size", start);
    bi_expect_line(&emu, "bz ramdisk pattern ok");
    bi_expect_line(&emu, "bz acpi_rsdp_addr 0x%llx", (unsigned long long)EM_ACPI_BASE);
    bi_expect_line(&emu, "bz rsdp signature \"RSD PTR \" revision 2 checksums ok");
}
END_TEST

START_TEST(bzimage_without_acpi_initrd_or_append)
{
    const char *kernel = bi_tmp_path(&tmp, "k.img");
    int status;

    make_bzimage(kernel);
    status = bi_run(&emu, "bzImage, 48M, --no-acpi",
                    (const char *[]){ "--kernel", kernel, "--no-acpi", "--memory", "48M",
                                      "--debug-exit", NULL },
                    TIMEOUT_MS);
    bi_expect_ok(&emu, "bz", status);
    bi_expect_e820(&emu, "bz", 48 * MIB);
    bi_expect_line(&emu, "bz cmdline \"\"");
    bi_expect_line(&emu, "bz ramdisk_image 0x0 ramdisk_size 0");
    bi_expect_line(&emu, "bz acpi_rsdp_addr 0x0");
}
END_TEST

/* ---- malformed images ---- */

/* kvmemu refused to boot: status 1, nothing from a guest, exactly one
 * "kvmemu: " line, naming `file` and holding every needle, and a boot
 * timeline (--trace-boot) that never reached the guest. */
static void expect_refused(const char *what, const char *const *args, const char *file,
                           const char *const *needles)
{
    int status = bi_run(&emu, what, args, TIMEOUT_MS);
    const char *line;

    ck_assert_msg(status == 1, "%s: status %d, not 1; stderr: %s", what, status,
                  bi_flat(emu.err.buf));
    ck_assert_msg(emu.out.total == 0, "%s: the guest printed: %s", what, bi_flat(emu.out.buf));
    ck_assert_msg(bi_count_lines(emu.err.buf, "kvmemu: ") == 1, "%s: not exactly one message: %s",
                  what, bi_flat(emu.err.buf));
    line = bi_find_line(emu.err.buf, "kvmemu: ");
    ck_assert_msg(strstr(line, file) && strchr(line, '\n') > strstr(line, file),
                  "%s: the message does not name %s: %s", what, file, bi_flat(emu.err.buf));
    for (; *needles; needles++)
        ck_assert_msg(strstr(line, *needles) && strchr(line, '\n') > strstr(line, *needles),
                      "%s: the message does not say \"%s\": %s", what, *needles,
                      bi_flat(emu.err.buf));
    ck_assert_msg(strstr(emu.err.buf, "boot timeline"), "%s: no timeline: %s", what,
                  bi_flat(emu.err.buf));
    ck_assert_msg(!strstr(emu.err.buf, "first guest instruction"), "%s: a vCPU ran: %s", what,
                  bi_flat(emu.err.buf));
    ck_assert_msg(!strstr(emu.err.buf, " loaded ("), "%s: an image was loaded: %s", what,
                  bi_flat(emu.err.buf));
}

START_TEST(truncated_bzimage_is_refused)
{
    const char *kernel = bi_tmp_path(&tmp, "k-short.img");
    size_t len = make_bzimage(kernel), cut = BZ_SETUP_BYTES + (len - BZ_SETUP_BYTES) / 2;
    uint8_t *img = bi_read_file(kernel, &len);

    /* The header still claims the whole payload. */
    bi_write_file(kernel, img, cut);
    free(img);
    expect_refused("truncated bzImage",
                   (const char *[]){ "--kernel", kernel, "--trace-boot", "--debug-exit", NULL },
                   kernel, (const char *[]){ "bzImage", "truncated", NULL });
}
END_TEST

START_TEST(elf_without_pvh_note_or_multiboot_header_is_refused)
{
    /* acpi_info.elf: an x86-64 ELF whose notes the link dropped. */
    const char *kernel = bi_guest("acpi_info", "elf");

    expect_refused("plain ELF",
                   (const char *[]){ "--kernel", kernel, "--trace-boot", "--debug-exit", NULL },
                   kernel,
                   (const char *[]){ "not a bzImage, a PVH ELF or a multiboot image",
                                     "without a PVH note or a multiboot header", NULL });
}
END_TEST

/* mb_info.elf with its multiboot header's checksum off by one. */
static const char *bad_checksum_image(void)
{
    const char *path = bi_tmp_path(&tmp, "k-mb.elf");
    size_t len, off;
    uint8_t *img = bi_read_file(bi_guest("mb_info", "elf"), &len);

    for (off = 0; off + 12 <= len && off < 8192; off += 4)
        if (img[off] == 0x02 && img[off + 1] == 0xb0 && img[off + 2] == 0xad &&
            img[off + 3] == 0x1b)
            break;
    ck_assert_msg(off < 8192 && off + 12 <= len, "no multiboot header in mb_info.elf");
    img[off + 8]++;
    bi_write_file(path, img, len);
    free(img);
    return path;
}

START_TEST(multiboot_bad_checksum_is_refused)
{
    const char *kernel = bad_checksum_image();

    expect_refused("multiboot bad checksum",
                   (const char *[]){ "--kernel", kernel, "--trace-boot", "--debug-exit", NULL },
                   kernel, (const char *[]){ NULL });
}
END_TEST

/* The same image: the message should say what is wrong with it, as the
 * multiboot loader's own message does ("... has a bad checksum"), not that
 * there is no header. Fails until em_load_kernel()'s probe says so. */
START_TEST(multiboot_bad_checksum_message_names_the_checksum)
{
    const char *kernel = bad_checksum_image();

    expect_refused("multiboot bad checksum (message)",
                   (const char *[]){ "--kernel", kernel, "--trace-boot", "--debug-exit", NULL },
                   kernel, (const char *[]){ "checksum", NULL });
}
END_TEST

/* A 20M initrd with 16M of RAM, through each loader (the bzImage's
 * kernel alone takes 16M-17M: it gets 24M, still too little). */
START_TEST(initrd_too_large_is_refused)
{
    const char *initrd = bi_tmp_path(&tmp, "initrd-20M.img");
    const char *bz = bi_tmp_path(&tmp, "k.img");
    const char *kernels[] = { bi_guest("mb_info", "elf"), bi_guest("pvh_info", "elf"), bz };
    const char *kinds[] = { "multiboot image", "PVH ELF", "bzImage" };
    const char *mem[] = { "16M", "16M", "24M" };
    FILE *f = fopen(initrd, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(ftruncate(fileno(f), 20 * MIB), 0);
    fclose(f);
    make_bzimage(bz);
    for (int i = 0; i < 3; i++) {
        char what[64];

        snprintf(what, sizeof(what), "%s with a 20M initrd in %s", kinds[i], mem[i]);
        expect_refused(what,
                       (const char *[]){ "--kernel", kernels[i], "--initrd", initrd, "--memory",
                                         mem[i], "--trace-boot", "--debug-exit", NULL },
                       kernels[i], (const char *[]){ kinds[i], initrd, "does not fit", NULL });
        emu_cleanup(&emu);
    }
}
END_TEST

START_TEST(bzimage_cmdline_longer_than_cmdline_size_is_refused)
{
    const char *kernel = bi_tmp_path(&tmp, "k.img");
    char *append = malloc(BZ_CMDLINE_SIZE + 2);

    ck_assert_ptr_nonnull(append);
    memset(append, 'x', BZ_CMDLINE_SIZE + 1);
    append[BZ_CMDLINE_SIZE + 1] = '\0';
    make_bzimage(kernel);
    expect_refused("bzImage command line too long",
                   (const char *[]){ "--kernel", kernel, "--append", append, "--trace-boot",
                                     "--debug-exit", NULL },
                   kernel, (const char *[]){ "cmdline_size", NULL });
    free(append);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_boot_kvm");
    TCase *boot = tcase_create("boot_protocols");
    TCase *bad = tcase_create("malformed_images");

    tcase_set_timeout(boot, 120);
    tcase_add_unchecked_fixture(boot, tmp_setup, tmp_teardown);
    tcase_add_checked_fixture(boot, NULL, teardown);
    tcase_add_test(boot, multiboot_info_has_everything);
    tcase_add_test(boot, multiboot_without_append_or_initrd_above_4g);
    tcase_add_test(boot, pvh_start_info_has_everything);
    tcase_add_test(boot, pvh_without_acpi_initrd_or_append);
    tcase_add_test(boot, bzimage_zero_page_has_everything);
    tcase_add_test(boot, bzimage_without_acpi_initrd_or_append);
    suite_add_tcase(s, boot);

    tcase_set_timeout(bad, 120);
    tcase_add_unchecked_fixture(bad, tmp_setup, tmp_teardown);
    tcase_add_checked_fixture(bad, NULL, teardown);
    tcase_add_test(bad, truncated_bzimage_is_refused);
    tcase_add_test(bad, elf_without_pvh_note_or_multiboot_header_is_refused);
    tcase_add_test(bad, multiboot_bad_checksum_is_refused);
    tcase_add_test(bad, multiboot_bad_checksum_message_names_the_checksum);
    tcase_add_test(bad, initrd_too_large_is_refused);
    tcase_add_test(bad, bzimage_cmdline_longer_than_cmdline_size_is_refused);
    suite_add_tcase(s, bad);
    return s;
}

const bool test_needs_kvm = true;
