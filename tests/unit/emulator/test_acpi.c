/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ACPI tables em_acpi_build() writes, read back from guest memory as
 * a guest would: from the RSDP through the XSDT and RSDT to every table,
 * each checksum, the fields Linux relies on, the MADT for several CPU
 * counts, and the DSDT's _PRT decoded entry by entry. Then every table is
 * disassembled with iasl (acpica-tools) and compiled back, which must give
 * no error or warning and the same bytes. Without iasl these tests fail.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acpi/acpi.h"
#include "acpi/tables.h"
#include "memmap.h"
#include "table_fixture.h"
#include "testutil.h"

static uint64_t build(unsigned ncpus, bool pm, bool pci)
{
    struct em_acpi_config cfg = { .ncpus = ncpus, .pm = pm, .pci = pci };
    uint64_t rsdp = 1;
    int ret = em_acpi_build(&cap.logger, mem, &cfg, &rsdp);

    ck_assert_msg(ret == 0, "em_acpi_build: %d: %s", ret, cap.text);
    ck_assert_uint_eq(cap.count, 0);
    ck_assert_uint_eq(rsdp, EM_ACPI_BASE);
    return rsdp;
}

/* The table at addr: inside the window, the signature, a sane length and
 * a zero checksum. */
static const uint8_t *table(uint64_t addr, const char *sig, uint32_t *len)
{
    const uint8_t *p;

    ck_assert_msg(addr >= EM_ACPI_BASE && addr + EM_ACPI_HEADER_SIZE <= EM_ACPI_BASE + EM_ACPI_SIZE,
                  "%s at 0x%llx is outside the ACPI window", sig, (unsigned long long)addr);
    ck_assert_uint_eq(addr % 16, 0);
    p = kc_mem_ptr(mem, addr, EM_ACPI_HEADER_SIZE);
    ck_assert_ptr_nonnull(p);
    ck_assert_msg(!memcmp(p, sig, 4), "expected %s at 0x%llx, found %.4s", sig,
                  (unsigned long long)addr, (const char *)p);
    *len = le32(p + 4);
    ck_assert_uint_ge(*len, EM_ACPI_HEADER_SIZE);
    ck_assert_uint_le(addr + *len, EM_ACPI_BASE + EM_ACPI_SIZE);
    p = kc_mem_ptr(mem, addr, *len);
    ck_assert_msg(sum(p, *len) == 0, "%s checksum is wrong", sig);
    ck_assert(!memcmp(p + 10, "KVMSTK", 6));
    return p;
}

struct tables {
    const uint8_t *rsdp, *xsdt, *rsdt, *fadt, *facs, *dsdt, *madt, *mcfg;
    uint32_t xsdt_len, rsdt_len, fadt_len, dsdt_len, madt_len, mcfg_len;
    unsigned nentries;
    char sigs[8][5];
};

/* Follows the pointers from the RSDP, checking each step. */
static void find_tables(uint64_t rsdp, struct tables *t)
{
    uint32_t len;

    memset(t, 0, sizeof(*t));
    t->rsdp = kc_mem_ptr(mem, rsdp, EM_ACPI_RSDP_SIZE);
    ck_assert_ptr_nonnull(t->rsdp);
    ck_assert(!memcmp(t->rsdp, "RSD PTR ", 8));
    ck_assert_uint_eq(sum(t->rsdp, 20), 0);
    ck_assert_uint_eq(sum(t->rsdp, EM_ACPI_RSDP_SIZE), 0);
    ck_assert_uint_eq(t->rsdp[15], 2);
    ck_assert_uint_eq(le32(t->rsdp + 20), EM_ACPI_RSDP_SIZE);
    t->xsdt = table(le64(t->rsdp + 24), "XSDT", &t->xsdt_len);
    t->rsdt = table(le32(t->rsdp + 16), "RSDT", &t->rsdt_len);
    ck_assert_uint_eq((t->xsdt_len - EM_ACPI_HEADER_SIZE) % 8, 0);
    t->nentries = (t->xsdt_len - EM_ACPI_HEADER_SIZE) / 8;
    ck_assert_uint_le(t->nentries, 8);
    ck_assert_uint_eq(t->rsdt_len, EM_ACPI_HEADER_SIZE + 4 * t->nentries);
    for (unsigned i = 0; i < t->nentries; i++) {
        uint64_t addr = le64(t->xsdt + EM_ACPI_HEADER_SIZE + 8 * i);
        const uint8_t *p = kc_mem_ptr(mem, addr, 4);

        ck_assert_ptr_nonnull(p);
        /* The RSDT lists the same tables. */
        ck_assert_uint_eq(le32(t->rsdt + EM_ACPI_HEADER_SIZE + 4 * i), addr);
        memcpy(t->sigs[i], p, 4);
        if (!memcmp(p, "FACP", 4))
            t->fadt = table(addr, "FACP", &t->fadt_len);
        else if (!memcmp(p, "APIC", 4))
            t->madt = table(addr, "APIC", &t->madt_len);
        else if (!memcmp(p, "MCFG", 4))
            t->mcfg = table(addr, "MCFG", &t->mcfg_len);
    }
    ck_assert_ptr_nonnull(t->fadt);
    ck_assert_uint_eq(t->fadt_len, 276);
    /* 32- and 64-bit DSDT pointers agree; the FACS has only the 32-bit
     * one, as the spec wants X_FIRMWARE_CTRL 0 when FIRMWARE_CTRL is set. */
    ck_assert_uint_eq(le32(t->fadt + 40), le64(t->fadt + 140));
    ck_assert_uint_eq(le64(t->fadt + 132), 0);
    t->dsdt = table(le64(t->fadt + 140), "DSDT", &t->dsdt_len);
    ck_assert_uint_eq(le32(t->fadt + 36) % 64, 0);
    t->facs = kc_mem_ptr(mem, le32(t->fadt + 36), EM_ACPI_FACS_SIZE);
    ck_assert_ptr_nonnull(t->facs);
    ck_assert(!memcmp(t->facs, "FACS", 4));
    ck_assert_uint_eq(le32(t->facs + 4), EM_ACPI_FACS_SIZE);
    (void)len;
}

/* Whether the n bytes at hay contain needle. */
static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
    return memmem(hay, n, needle, strlen(needle)) != NULL;
}

/* ---- the pointers ---- */

START_TEST(rsdp_is_where_linux_scans)
{
    uint64_t rsdp = build(2, true, true);
    const uint8_t *area = kc_mem_ptr(mem, EM_BIOS_AREA_BASE, 0x20000);
    uint64_t found = 0;

    ck_assert_ptr_nonnull(area);
    /* As Linux's fallback does: the first valid "RSD PTR " on a 16-byte
     * boundary of 0xe0000-0xfffff. */
    for (size_t off = 0; off < 0x20000; off += 16) {
        if (!memcmp(area + off, "RSD PTR ", 8) && sum(area + off, 20) == 0) {
            found = EM_BIOS_AREA_BASE + off;
            break;
        }
    }
    ck_assert_uint_eq(found, rsdp);
}
END_TEST

START_TEST(xsdt_lists_fadt_madt_mcfg)
{
    struct tables t;

    find_tables(build(2, true, true), &t);
    ck_assert_uint_eq(t.nentries, 3);
    ck_assert_str_eq(t.sigs[0], "FACP");
    ck_assert_str_eq(t.sigs[1], "APIC");
    ck_assert_str_eq(t.sigs[2], "MCFG");
    ck_assert_uint_eq(t.xsdt[8], 1);
    ck_assert_uint_eq(t.dsdt[8], 2); /* 64-bit integers */
}
END_TEST

START_TEST(without_pci_there_is_no_mcfg_and_no_pci0)
{
    struct tables t;

    find_tables(build(1, true, false), &t);
    ck_assert_uint_eq(t.nentries, 2);
    ck_assert_str_eq(t.sigs[0], "FACP");
    ck_assert_str_eq(t.sigs[1], "APIC");
    ck_assert_ptr_null(t.mcfg);
    ck_assert(!contains(t.dsdt, t.dsdt_len, "PCI0"));
    ck_assert(!contains(t.dsdt, t.dsdt_len, "_PRT"));
    ck_assert(contains(t.dsdt, t.dsdt_len, "COM1"));
    /* No PCI host, no reset register (it lives in the host's 0xcf8). */
    ck_assert_uint_eq(le32(t.fadt + 112) & (1u << 10), 0);
    ck_assert_uint_eq(le64(t.fadt + 120), 0);
}
END_TEST

/* ---- FADT ---- */

/* A Generic Address Structure: space, width, address. */
static void expect_gas(const uint8_t *g, uint8_t space, uint8_t bits, uint64_t addr)
{
    ck_assert_uint_eq(g[0], space);
    ck_assert_uint_eq(g[1], bits);
    ck_assert_uint_eq(g[2], 0);
    ck_assert_uint_eq(le64(g + 4), addr);
}

START_TEST(fadt_describes_the_pm_device)
{
    struct tables t;
    const uint8_t *f;
    uint32_t flags;

    find_tables(build(2, true, true), &t);
    f = t.fadt;
    ck_assert_uint_eq(f[8], 6);
    ck_assert_uint_eq(le16(f + 46), EM_SCI_GSI);
    ck_assert_uint_eq(le32(f + 48), 0); /* SMI_CMD: always in ACPI mode */
    ck_assert_uint_eq(le32(f + 56), EM_PM_IO_BASE);
    ck_assert_uint_eq(le32(f + 64), EM_PM_IO_BASE + 4);
    ck_assert_uint_eq(le32(f + 76), EM_PM_IO_BASE + 8);
    ck_assert_uint_eq(le32(f + 60), 0); /* no PM1b */
    ck_assert_uint_eq(le32(f + 80), 0); /* no GPE blocks */
    ck_assert_uint_eq(f[88], 4);
    ck_assert_uint_eq(f[89], 2);
    ck_assert_uint_eq(f[91], 4);
    ck_assert_uint_eq(f[108], 0x32);       /* century */
    ck_assert_uint_eq(le16(f + 109), 0x7); /* legacy devices, 8042, no VGA */
    flags = le32(f + 112);
    ck_assert_uint_eq(flags & (1u << 4), 0);  /* fixed power button */
    ck_assert_uint_ne(flags & (1u << 5), 0);  /* no fixed sleep button */
    ck_assert_uint_ne(flags & (1u << 10), 0); /* reset register */
    ck_assert_uint_eq(flags & (1u << 8), 0);  /* 24-bit timer */
    ck_assert_uint_eq(flags & (1u << 20), 0); /* not hardware-reduced */
    expect_gas(f + 116, 1, 8, EM_RESET_PORT);
    ck_assert_uint_eq(f[128], 0x06);
    expect_gas(f + 148, 1, 32, EM_PM_IO_BASE);
    expect_gas(f + 172, 1, 16, EM_PM_IO_BASE + 4);
    expect_gas(f + 208, 1, 32, EM_PM_IO_BASE + 8);
}
END_TEST

START_TEST(without_pm_the_fadt_is_hardware_reduced)
{
    struct tables t;

    find_tables(build(2, false, true), &t);
    ck_assert_uint_ne(le32(t.fadt + 112) & (1u << 20), 0);
    /* The reset register comes with the PCI host. */
    ck_assert_uint_ne(le32(t.fadt + 112) & (1u << 10), 0);
    ck_assert_uint_eq(le16(t.fadt + 46), 0);
    ck_assert_uint_eq(le32(t.fadt + 56), 0);
    ck_assert_uint_eq(le32(t.fadt + 64), 0);
    ck_assert_uint_eq(le64(t.fadt + 152), 0);
    ck_assert(!contains(t.dsdt, t.dsdt_len, "_S5_"));
    /* No SCI, so no override for it either. */
    ck_assert_uint_eq(t.madt_len, 44 + 8 * 2 + 12 + 10 + 6);
}
END_TEST

/* ---- MADT ---- */

static void check_madt(unsigned ncpus)
{
    struct tables t;
    unsigned lapics = 0, ioapics = 0, overrides = 0, nmis = 0;
    bool irq0 = false, sci = false;
    uint32_t off;

    find_tables(build(ncpus, true, true), &t);
    ck_assert_uint_eq(le32(t.madt + 36), EM_LAPIC_BASE);
    ck_assert_uint_eq(le32(t.madt + 40), 1); /* PCAT_COMPAT */
    for (off = 44; off < t.madt_len;) {
        const uint8_t *e = t.madt + off;

        ck_assert_uint_ge(e[1], 2);
        ck_assert_uint_le(off + e[1], t.madt_len);
        switch (e[0]) {
        case 0:
            ck_assert_uint_eq(e[1], 8);
            ck_assert_uint_eq(e[2], lapics); /* processor UID */
            ck_assert_uint_eq(e[3], lapics); /* APIC id */
            ck_assert_uint_eq(le32(e + 4), 1);
            lapics++;
            break;
        case 1:
            ck_assert_uint_eq(e[1], 12);
            ck_assert_uint_eq(e[2], ncpus); /* an id no CPU has */
            ck_assert_uint_eq(le32(e + 4), EM_IOAPIC_BASE);
            ck_assert_uint_eq(le32(e + 8), 0);
            ioapics++;
            break;
        case 2:
            ck_assert_uint_eq(e[1], 10);
            ck_assert_uint_eq(e[2], 0);
            if (e[3] == 0) {
                ck_assert_uint_eq(le32(e + 4), 2);
                irq0 = true;
            } else {
                ck_assert_uint_eq(e[3], EM_SCI_GSI);
                ck_assert_uint_eq(le32(e + 4), EM_SCI_GSI);
                ck_assert_uint_eq(le16(e + 8), 0xd); /* level, active high */
                sci = true;
            }
            overrides++;
            break;
        case 4:
            ck_assert_uint_eq(e[1], 6);
            ck_assert_uint_eq(e[2], 0xff);
            ck_assert_uint_eq(e[5], 1); /* LINT1 */
            nmis++;
            break;
        default:
            ck_abort_msg("unexpected MADT entry type %u", e[0]);
        }
        off += e[1];
    }
    ck_assert_uint_eq(off, t.madt_len);
    ck_assert_uint_eq(lapics, ncpus);
    ck_assert_uint_eq(ioapics, 1);
    ck_assert_uint_eq(overrides, 2);
    ck_assert(irq0 && sci);
    ck_assert_uint_eq(nmis, 1);
}

START_TEST(madt_has_one_lapic_per_cpu)
{
    static const unsigned counts[] = { 1, 2, 8, 255 };

    check_madt(counts[_i]);
}
END_TEST

/* ---- MCFG ---- */

START_TEST(mcfg_covers_the_ecam_window)
{
    struct tables t;

    find_tables(build(1, true, true), &t);
    ck_assert_uint_eq(t.mcfg_len, 60);
    ck_assert_uint_eq(le64(t.mcfg + 44), EM_PCI_ECAM_BASE);
    ck_assert_uint_eq(le16(t.mcfg + 52), 0);
    ck_assert_uint_eq(t.mcfg[54], 0);
    ck_assert_uint_eq(t.mcfg[55], 255);
    /* 256 buses of 1 MiB each: exactly the ECAM window. */
    ck_assert_uint_eq(256 * MIB, EM_PCI_ECAM_SIZE);
}
END_TEST

/* ---- the DSDT's _PRT, decoded ---- */

/* Reads an AML integer constant at *p; false if there is none. */
static bool aml_int(const uint8_t **p, uint64_t *v)
{
    const uint8_t *q = *p;

    switch (q[0]) {
    case 0x00:
    case 0x01:
        *v = q[0];
        *p = q + 1;
        return true;
    case 0x0a:
        *v = q[1];
        *p = q + 2;
        return true;
    case 0x0b:
        *v = le16(q + 1);
        *p = q + 3;
        return true;
    case 0x0c:
        *v = le32(q + 1);
        *p = q + 5;
        return true;
    case 0x0e:
        *v = le64(q + 1);
        *p = q + 9;
        return true;
    }
    return false;
}

/* Skips PackageOp and PkgLength; returns NumElements and the end. */
static unsigned aml_package(const uint8_t **p, const uint8_t **end)
{
    const uint8_t *q = *p;
    unsigned n = (q[1] >> 6) + 1;
    uint32_t len = n == 1 ? q[1] & 0x3f : q[1] & 0x0f;

    ck_assert_uint_eq(q[0], 0x12);
    for (unsigned i = 1; i < n; i++)
        len |= (uint32_t)q[1 + i] << (4 + 8 * (i - 1));
    *end = q + 1 + len;
    *p = q + 1 + n + 1;
    return q[1 + n];
}

START_TEST(prt_routes_every_slot_and_pin)
{
    struct tables t;
    const uint8_t *p, *end, *prt_end;
    unsigned n;

    find_tables(build(1, true, true), &t);
    p = memmem(t.dsdt, t.dsdt_len, "_PRT", 4);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p[-1], 0x08); /* NameOp */
    p += 4;
    n = aml_package(&p, &prt_end);
    ck_assert_uint_le(prt_end - t.dsdt, t.dsdt_len);
    ck_assert_uint_eq(n, 31 * 4);
    for (unsigned slot = 1; slot < 32; slot++) {
        for (unsigned pin = 0; pin < 4; pin++) {
            uint64_t addr, epin, src, gsi;

            ck_assert_uint_eq(aml_package(&p, &end), 4);
            ck_assert(aml_int(&p, &addr) && aml_int(&p, &epin) && aml_int(&p, &src) &&
                      aml_int(&p, &gsi));
            ck_assert_ptr_eq(p, end);
            ck_assert_uint_eq(addr, (uint64_t)slot << 16 | 0xffff);
            ck_assert_uint_eq(epin, pin);
            ck_assert_uint_eq(src, 0);
            ck_assert_uint_eq(gsi, EM_PCI_GSI(slot, pin));
        }
    }
    ck_assert_ptr_eq(p, prt_end);
}
END_TEST

START_TEST(s5_package_says_slp_typ_5)
{
    struct tables t;
    const uint8_t *p, *end;
    uint64_t v[4];

    find_tables(build(1, true, true), &t);
    p = memmem(t.dsdt, t.dsdt_len, "\\_S5_", 5);
    ck_assert_ptr_nonnull(p);
    p += 5;
    ck_assert_uint_eq(aml_package(&p, &end), 4);
    for (int i = 0; i < 4; i++)
        ck_assert(aml_int(&p, &v[i]));
    ck_assert_ptr_eq(p, end);
    ck_assert_uint_eq(v[0], 5);
    ck_assert_uint_eq(v[1], 5);
    ck_assert_uint_eq(v[2], 0);
    ck_assert_uint_eq(v[3], 0);
}
END_TEST

/* ---- iasl ---- */

static const char *iasl_path(void)
{
    const char *p = getenv("IASL");

    if (!p || !*p || access(p, X_OK) != 0)
        ck_abort_msg("iasl was not found (Debian package acpica-tools): install it "
                     "(./scripts/test does) and reconfigure; these tests need it");
    return p;
}

/* Runs iasl in dir with the given arguments; its output (stdout and
 * stderr) goes to out. Returns the exit status. */
static int run_iasl(const char *dir, const char *a1, const char *a2, const char *a3, const char *a4,
                    char *out, size_t outsz)
{
    const char *iasl = iasl_path();
    int fds[2], status;
    size_t used = 0;
    ssize_t n;
    pid_t pid;

    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        const char *argv[] = { iasl, a1, a2, a3, a4, NULL };

        if (chdir(dir) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[1], 2) < 0)
            _exit(127);
        close(fds[0]);
        execv(iasl, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    while ((n = read(fds[0], out + used, outsz - 1 - used)) > 0)
        used += (size_t)n;
    out[used] = '\0';
    close(fds[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* The whole file; *n its size. The caller frees it. */
static char *read_file(const char *dir, const char *name, size_t *n)
{
    char path[256];
    struct stat st;
    char *buf;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s was not written", path);
    ck_assert_int_eq(fstat(fileno(f), &st), 0);
    buf = malloc((size_t)st.st_size + 1);
    ck_assert_ptr_nonnull(buf);
    *n = fread(buf, 1, (size_t)st.st_size, f);
    ck_assert_uint_eq(*n, (size_t)st.st_size);
    buf[*n] = '\0';
    fclose(f);
    return buf;
}

static bool has_word(const char *text, const char *word)
{
    return strcasestr(text, word) != NULL;
}

/*
 * Disassembles one table, checks that iasl said nothing wrong, compiles
 * the disassembly back without optimisations and compares: everything
 * but the checksum and the compiler id must be the same bytes. Returns
 * the disassembly (the caller frees it).
 */
static char *iasl_round_trip(const char *dir, const char *name, const uint8_t *tbl, size_t len,
                             bool header)
{
    char out[16384], file[64], dsl[64], prefix[64], aml[64];
    char *text, *back;
    size_t n;

    snprintf(file, sizeof(file), "%s.dat", name);
    snprintf(dsl, sizeof(dsl), "%s.dsl", name);
    snprintf(prefix, sizeof(prefix), "re_%s", name);
    snprintf(aml, sizeof(aml), "re_%s.aml", name);
    write_file(dir, file, tbl, len);
    ck_assert_msg(run_iasl(dir, "-d", file, NULL, NULL, out, sizeof(out)) == 0, "iasl -d %s: %s",
                  file, out);
    ck_assert_msg(!has_word(out, "error") && !has_word(out, "warning"), "iasl -d %s: %s", file,
                  out);
    text = read_file(dir, dsl, &n);
    ck_assert_msg(!has_word(text, "error") && !has_word(text, "warning") &&
                      !has_word(text, "invalid") && !has_word(text, "unknown"),
                  "%s has complaints:\n%s", dsl, text);

    ck_assert_msg(run_iasl(dir, "-oa", "-p", prefix, dsl, out, sizeof(out)) == 0, "iasl %s: %s",
                  dsl, out);
    ck_assert_msg(strstr(out, "0 Errors, 0 Warnings, 0 Remarks"), "iasl %s: %s", dsl, out);
    back = read_file(dir, aml, &n);
    ck_assert_uint_eq(n, len);
    if (header) {
        ck_assert(!memcmp(back, tbl, 9));
        ck_assert(!memcmp(back + 10, tbl + 10, 18));
        ck_assert(!memcmp(back + 36, tbl + 36, len - 36));
    } else {
        ck_assert(!memcmp(back, tbl, len));
    }
    free(back);
    return text;
}

static unsigned count(const char *text, const char *needle)
{
    unsigned n = 0;

    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void check_with_iasl(unsigned ncpus, bool pm, bool pci)
{
    char dir[] = "/tmp/test_acpi.XXXXXX";
    struct tables t;
    char *text;

    iasl_path(); /* before anything is created that a failure would leave */
    find_tables(build(ncpus, pm, pci), &t);
    ck_assert_ptr_nonnull(mkdtemp(dir));

    text = iasl_round_trip(dir, "dsdt", t.dsdt, t.dsdt_len, true);
    ck_assert(strstr(text, "DefinitionBlock (\"\", \"DSDT\", 2, \"KVMSTK\", \"KVMEMU  \""));
    ck_assert_uint_eq(count(text, "Device (PCI0)"), pci);
    ck_assert_uint_eq(count(text, "Name (_PRT, Package (0x7C)"), pci);
    ck_assert_uint_eq(count(text, "EisaId (\"PNP0A08\")"), pci);
    ck_assert_uint_eq(count(text, "EisaId (\"PNP0A03\")"), pci);
    ck_assert_uint_eq(count(text, "EisaId (\"PNP0C02\")"), pci);
    ck_assert_uint_eq(count(text, "0xC0000000,         // Range Minimum"), pci);
    ck_assert_uint_eq(count(text, "0xDFFFFFFF,         // Range Maximum"), pci);
    ck_assert_uint_eq(count(text, "0xE0000000,         // Address Base"), pci);
    ck_assert_uint_eq(count(text, "Name (\\_S5, Package (0x04)"), pm);
    ck_assert_uint_eq(count(text, "EisaId (\"PNP0501\")"), 1);
    ck_assert_uint_eq(count(text, "EisaId (\"PNP0303\")"), 1);
    ck_assert_uint_eq(count(text, "EisaId (\"PNP0F13\")"), 1);
    ck_assert_uint_eq(count(text, "EisaId (\"PNP0B00\")"), 1);
    ck_assert(strstr(text, "0x03F8,             // Range Minimum"));
    free(text);

    text = iasl_round_trip(dir, "facp", t.fadt, t.fadt_len, true);
    ck_assert_uint_eq(count(text, "PM1A Event Block Address : 0000B000"), pm);
    ck_assert_uint_eq(count(text, "Hardware Reduced (V5) : 1"), !pm);
    free(text);

    text = iasl_round_trip(dir, "apic", t.madt, t.madt_len, true);
    ck_assert_uint_eq(count(text, "[Processor Local APIC]"), ncpus);
    ck_assert_uint_eq(count(text, "[I/O APIC]"), 1);
    ck_assert_uint_eq(count(text, "[Interrupt Source Override]"), pm ? 2 : 1);
    ck_assert_uint_eq(count(text, "[Local APIC NMI]"), 1);
    free(text);

    if (pci) {
        text = iasl_round_trip(dir, "mcfg", t.mcfg, t.mcfg_len, true);
        ck_assert(strstr(text, "Base Address : 00000000E0000000"));
        free(text);
    }
    free(iasl_round_trip(dir, "facs", t.facs, EM_ACPI_FACS_SIZE, false));
    free(iasl_round_trip(dir, "xsdt", t.xsdt, t.xsdt_len, true));
    free(iasl_round_trip(dir, "rsdt", t.rsdt, t.rsdt_len, true));
    ck_assert_int_eq(nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

START_TEST(iasl_accepts_the_full_machine)
{
    check_with_iasl(2, true, true);
}
END_TEST

START_TEST(iasl_accepts_255_cpus)
{
    check_with_iasl(255, true, true);
}
END_TEST

START_TEST(iasl_accepts_a_machine_without_pm_and_pci)
{
    check_with_iasl(1, false, false);
}
END_TEST

/* ---- what must fail ---- */

static bool all_zero(uint64_t gpa, size_t n)
{
    const uint8_t *p = kc_mem_ptr(mem, gpa, n);

    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

START_TEST(bad_cpu_counts_are_refused)
{
    struct em_acpi_config cfg = { .ncpus = 0, .pm = true, .pci = true };
    uint64_t rsdp = 1;

    ck_assert_int_eq(em_acpi_build(&cap.logger, mem, &cfg, &rsdp), -EINVAL);
    ck_assert_uint_eq(rsdp, 0);
    ck_assert_uint_eq(cap.count, 1);
    ck_assert(log_has(&cap, "0 vCPUs"));
    cfg.ncpus = 256;
    ck_assert_int_eq(em_acpi_build(&cap.logger, mem, &cfg, &rsdp), -EINVAL);
    ck_assert_uint_eq(cap.count, 2);
    ck_assert(log_has(&cap, "256 vCPUs"));
    ck_assert(all_zero(EM_ACPI_BASE, EM_ACPI_SIZE));
}
END_TEST

START_TEST(no_ram_at_the_window_is_an_error)
{
    struct em_acpi_config cfg = { .ncpus = 2, .pm = true, .pci = true };
    struct kc_mem *bare = kc_mem_create(&cap.logger);
    uint64_t rsdp = 1;

    ck_assert_ptr_nonnull(kc_mem_add_ram(bare, 0, EM_ACPI_BASE, 0, "below"));
    ck_assert_int_eq(em_acpi_build(&cap.logger, bare, &cfg, &rsdp), -EFAULT);
    ck_assert_uint_eq(rsdp, 0);
    ck_assert_uint_eq(cap.count, 1);
    ck_assert(log_has(&cap, "ACPI tables: guest memory [0xe0000, 0xf0000) is not all RAM"));
    kc_mem_destroy(bare);
}
END_TEST

START_TEST(half_a_window_gets_nothing_written)
{
    struct em_acpi_config cfg = { .ncpus = 2, .pm = true, .pci = true };
    struct kc_mem *half = kc_mem_create(&cap.logger);
    uint64_t rsdp = 1;
    const uint8_t *p;

    ck_assert_ptr_nonnull(kc_mem_add_ram(half, 0, EM_ACPI_BASE + 0x8000, 0, "half"));
    ck_assert_int_eq(em_acpi_build(&cap.logger, half, &cfg, &rsdp), -EFAULT);
    ck_assert_uint_eq(rsdp, 0);
    ck_assert(log_has(&cap, "not all RAM"));
    p = kc_mem_ptr(half, EM_ACPI_BASE, 0x8000);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(first_byte_not(p, 0x8000, 0), 0x8000);
    kc_mem_destroy(half);
}
END_TEST

START_TEST(read_only_window_is_an_error)
{
    struct em_acpi_config cfg = { .ncpus = 2, .pm = true, .pci = true };
    struct kc_mem *rom = kc_mem_create(&cap.logger);
    uint64_t rsdp = 1;

    ck_assert_ptr_nonnull(
        kc_mem_add_ram(rom, EM_ACPI_BASE, EM_ACPI_SIZE, KC_REGION_READONLY, "rom"));
    ck_assert_int_lt(em_acpi_build(&cap.logger, rom, &cfg, &rsdp), 0);
    ck_assert_uint_eq(rsdp, 0);
    ck_assert(log_has(&cap, "not all RAM"));
    kc_mem_destroy(rom);
}
END_TEST

START_TEST(tables_that_do_not_fit_are_an_error)
{
    struct em_acpi_config cfg = { .ncpus = 255, .pm = true, .pci = true };
    uint64_t rsdp = 1;

    /* 4 KiB hold the DSDT but not 255 local APICs after it. */
    ck_assert_int_eq(em_acpi_build_at(&cap.logger, mem, EM_ACPI_BASE, 4096, &cfg, &rsdp), -ENOSPC);
    ck_assert_uint_eq(rsdp, 0);
    ck_assert_uint_eq(cap.count, 1);
    ck_assert(log_has(&cap, "ACPI tables at 0xe0000 (0x1000 bytes available): the contents "
                            "exceed the space available"));
    ck_assert(all_zero(EM_ACPI_BASE, EM_ACPI_SIZE));
}
END_TEST

START_TEST(misaligned_window_is_refused)
{
    struct em_acpi_config cfg = { .ncpus = 1, .pm = true, .pci = true };
    uint64_t rsdp = 1;

    ck_assert_int_eq(em_acpi_build_at(&cap.logger, mem, EM_ACPI_BASE + 8, 0x8000, &cfg, &rsdp),
                     -EINVAL);
    ck_assert(log_has(&cap, "not 16-byte aligned"));
    ck_assert_int_eq(em_acpi_build_at(&cap.logger, mem, 0xfffff000, 0x2000, &cfg, &rsdp), -EINVAL);
    /* A window whose end wraps around is not below 4 GiB either. */
    ck_assert_int_eq(em_acpi_build_at(&cap.logger, mem, UINT64_MAX - 15, 0x20, &cfg, &rsdp),
                     -EINVAL);
    ck_assert_uint_eq(cap.count, 3);
    ck_assert_uint_eq(rsdp, 0);
}
END_TEST

START_TEST(rebuild_replaces_what_the_guest_left)
{
    uint8_t *p = kc_mem_ptr(mem, EM_ACPI_BASE, EM_ACPI_SIZE);
    struct tables t;
    uint8_t first[EM_ACPI_SIZE];
    size_t used;

    build(8, true, true);
    memcpy(first, p, sizeof(first));
    /* A guest scribbles over the reserved area, then resets. */
    memset(p, 0xa5, EM_ACPI_SIZE);
    build(8, true, true);
    ck_assert(!memcmp(first, p, sizeof(first)));
    find_tables(EM_ACPI_BASE, &t);
    /* Past the last table (the RSDT), only zeros. */
    used = (size_t)(t.rsdt - p) + t.rsdt_len;
    ck_assert(all_zero(EM_ACPI_BASE + used, EM_ACPI_SIZE - used));
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("acpi");
    TCase *tc = tcase_create("tables");
    TCase *tc_iasl = tcase_create("iasl");
    TCase *tc_err = tcase_create("errors");

    tcase_add_checked_fixture(tc, table_setup, table_teardown);
    tcase_add_test(tc, rsdp_is_where_linux_scans);
    tcase_add_test(tc, xsdt_lists_fadt_madt_mcfg);
    tcase_add_test(tc, without_pci_there_is_no_mcfg_and_no_pci0);
    tcase_add_test(tc, fadt_describes_the_pm_device);
    tcase_add_test(tc, without_pm_the_fadt_is_hardware_reduced);
    tcase_add_loop_test(tc, madt_has_one_lapic_per_cpu, 0, 4);
    tcase_add_test(tc, mcfg_covers_the_ecam_window);
    tcase_add_test(tc, prt_routes_every_slot_and_pin);
    tcase_add_test(tc, s5_package_says_slp_typ_5);
    tcase_add_test(tc, rebuild_replaces_what_the_guest_left);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(tc_iasl, table_setup, table_teardown);
    tcase_set_timeout(tc_iasl, 60);
    tcase_add_test(tc_iasl, iasl_accepts_the_full_machine);
    tcase_add_test(tc_iasl, iasl_accepts_255_cpus);
    tcase_add_test(tc_iasl, iasl_accepts_a_machine_without_pm_and_pci);
    suite_add_tcase(s, tc_iasl);

    tcase_add_checked_fixture(tc_err, table_setup, table_teardown);
    tcase_add_test(tc_err, bad_cpu_counts_are_refused);
    tcase_add_test(tc_err, no_ram_at_the_window_is_an_error);
    tcase_add_test(tc_err, half_a_window_gets_nothing_written);
    tcase_add_test(tc_err, read_only_window_is_an_error);
    tcase_add_test(tc_err, tables_that_do_not_fit_are_an_error);
    tcase_add_test(tc_err, misaligned_window_is_refused);
    suite_add_tcase(s, tc_err);
    return s;
}

const bool test_needs_kvm = false;
