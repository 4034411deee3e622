/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small AML encoder (ACPI 6.x, chapter 20 "ACPI Machine Language
 * Specification") and the resource descriptors of chapter 6.4, over a
 * growing byte buffer that the fixed-layout tables use too.
 *
 * Errors are sticky: the first bad argument, allocation failure or
 * overflow of the buffer's limit sets `failed` and `why`, and every later
 * call does nothing. A builder makes all its calls and checks once at the
 * end, so no call site needs an error path and nothing half-built is ever
 * mistaken for a whole table.
 *
 * Nested terms (Scope, Device, Package, Buffer) are written open/close:
 * the open call writes the opcode and returns a block, the close call
 * inserts the PkgLength (which counts its own bytes) once the contents
 * are known.
 */
#ifndef EM_ACPI_AML_H
#define EM_ACPI_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest value a PkgLength can encode (4 bytes, 28 bits). */
#define EM_AML_PKGLEN_MAX 0x0fffffffu

struct em_aml {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max; /* the buffer never grows past this many bytes */
    bool failed;
    int error;       /* then: ENOSPC (over max), ENOMEM or EINVAL (a bad argument) */
    const char *why; /* the first failure, a static string */
};

enum em_aml_block_kind {
    EM_AML_BLOCK_PKGLEN,   /* Scope, Device, Package: PkgLength only */
    EM_AML_BLOCK_BUFFER,   /* Buffer: PkgLength and BufferSize */
    EM_AML_BLOCK_TEMPLATE, /* ResourceTemplate: a Buffer ending in an End Tag */
};

/* An open nested term; give it back to em_aml_close(). */
struct em_aml_block {
    size_t at; /* where the PkgLength goes */
    enum em_aml_block_kind kind;
};

/* ---- the buffer ---- */

void em_aml_init(struct em_aml *a, size_t max);
void em_aml_free(struct em_aml *a);
/* Records the first failure (as EINVAL); `why` must be a static string. */
void em_aml_fail(struct em_aml *a, const char *why);

void em_aml_bytes(struct em_aml *a, const void *p, size_t n);
void em_aml_zeros(struct em_aml *a, size_t n);
/* Pads with zeros to a multiple of `align` (a power of two). */
void em_aml_align(struct em_aml *a, size_t align);
/* Little-endian integers. */
void em_aml_u8(struct em_aml *a, uint8_t v);
void em_aml_u16(struct em_aml *a, uint16_t v);
void em_aml_u32(struct em_aml *a, uint32_t v);
void em_aml_u64(struct em_aml *a, uint64_t v);
/* Overwrites already-written bytes at `off`, little-endian. */
void em_aml_put(struct em_aml *a, size_t off, uint64_t v, unsigned size);

/* ---- AML terms ---- */

/* A PkgLength encoding `len` as given (1 to 4 bytes); see em_aml_close()
 * for the usual case, where the length includes the encoding itself. */
void em_aml_pkglen(struct em_aml *a, uint32_t len);
/* One NameSeg: 1 to 4 characters, padded with '_'. */
void em_aml_nameseg(struct em_aml *a, const char *seg);
/* A NameString: "\\" (root) or any number of "^" (parent), then NameSegs
 * separated by '.', e.g. "\\_SB.PCI0", "^^FOO", "_HID". */
void em_aml_namestring(struct em_aml *a, const char *path);
/* An integer constant in its shortest form (ZeroOp, OneOp, Byte, Word,
 * DWord or QWord prefix). */
void em_aml_int(struct em_aml *a, uint64_t v);
/* A String of ASCII characters 0x01-0x7f. */
void em_aml_string(struct em_aml *a, const char *s);
/* EISAID("PNP0A03"): three capital letters and four hex digits,
 * compressed into a DWord. */
void em_aml_eisaid(struct em_aml *a, const char *id);

/* Name(path, ...): the data object must follow. */
void em_aml_name(struct em_aml *a, const char *path);
struct em_aml_block em_aml_scope_open(struct em_aml *a, const char *path);
struct em_aml_block em_aml_device_open(struct em_aml *a, const char *path);
/* A Package of `count` elements (at most 255); write them, then close. */
struct em_aml_block em_aml_package_open(struct em_aml *a, unsigned count);
/* A Buffer: write its bytes, then close. */
struct em_aml_block em_aml_buffer_open(struct em_aml *a);
void em_aml_close(struct em_aml *a, struct em_aml_block b);

/* ---- resource descriptors (inside a ResourceTemplate) ---- */

/* A Buffer of descriptors; em_aml_close() adds the End Tag. */
struct em_aml_block em_aml_template_open(struct em_aml *a);
/* IO(Decode16, base, base, 1, len): a fixed range of ports. */
void em_aml_res_io(struct em_aml *a, uint16_t base, uint8_t len);
/* IRQNoFlags(){irq}: an ISA interrupt, 0-15, edge-triggered active-high. */
void em_aml_res_irq(struct em_aml *a, unsigned irq);
/* Memory32Fixed(ReadWrite, base, len). */
void em_aml_res_mem32_fixed(struct em_aml *a, uint32_t base, uint32_t len);
/* Address space descriptors a bridge produces: MinFixed, MaxFixed,
 * PosDecode, granularity 0, no translation, length max - min + 1. */
void em_aml_res_word_bus(struct em_aml *a, uint16_t min, uint16_t max);
void em_aml_res_word_io(struct em_aml *a, uint16_t min, uint16_t max);
void em_aml_res_dword_io(struct em_aml *a, uint32_t min, uint32_t max);
/* ReadWrite memory; cacheable or NonCacheable. */
void em_aml_res_dword_mem(struct em_aml *a, uint32_t min, uint32_t max, bool cacheable);
void em_aml_res_qword_mem(struct em_aml *a, uint64_t min, uint64_t max, bool cacheable);

#endif
