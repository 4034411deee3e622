/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Freestanding helpers for the test guests: port and MMIO accessors, and
 * the host/guest conventions the tests share.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stddef.h>
#include <stdint.h>

/* Writing V here ends the test run with code V (kvmemu: status (V << 1) | 1). */
#define PORT_DEBUG_EXIT 0xf4
/* Each 32-bit write here is one reported value; the host keeps them in order. */
#define PORT_REPORT 0x610
/* A COM1 transmit register, for text. */
#define PORT_COM1 0x3f8

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

#define MMIO_ACCESSORS(bits)                                                                       \
    static inline void mmio_write##bits(uintptr_t a, uint##bits##_t v)                             \
    {                                                                                              \
        *(volatile uint##bits##_t *)a = v;                                                         \
    }                                                                                              \
    static inline uint##bits##_t mmio_read##bits(uintptr_t a)                                      \
    {                                                                                              \
        return *(volatile uint##bits##_t *)a;                                                      \
    }
MMIO_ACCESSORS(8)
MMIO_ACCESSORS(16)
MMIO_ACCESSORS(32)
#ifdef __x86_64__
MMIO_ACCESSORS(64)
#endif

static inline void report(uint32_t v)
{
    outl(PORT_REPORT, v);
}

static inline void cpu_relax(void)
{
    __asm__ volatile("pause" ::: "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
                         uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

__attribute__((noreturn)) void guest_exit(uint8_t code);
void puts_com1(const char *s);

/* gcc may emit calls to these even in freestanding code. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

#endif
