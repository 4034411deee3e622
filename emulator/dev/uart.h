/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The register model of a 16550A UART (NatSemi PC16550D), without a
 * machine: what the guest sees through the eight ports, with hooks for the
 * three things it does to the outside world (a byte transmitted, the
 * interrupt output changed, room again in the receive FIFO). kvmemu's COM1
 * (uart.c) wraps it in a mutex and connects it to a chardev and a GSI; the
 * unit tests drive it directly.
 *
 * Model decisions, where the datasheet talks about time:
 *  - Transmission is synchronous: a THR write hands the byte to the hook at
 *    once, so THR and the transmitter are always empty (LSR.THRE = TEMT = 1).
 *  - The receiver's character timeout has always elapsed by the time the
 *    guest can look: in FIFO mode, fewer bytes than the trigger level give
 *    the timeout indication (IIR 0x0c) rather than waiting 4 character
 *    times, so no real-time timer is needed and nothing is left unread.
 *  - The modem inputs of a connected console: CTS, DSR and DCD asserted,
 *    RI not. In loopback they follow RTS, DTR, OUT1 and OUT2.
 *  - On a PC the interrupt output reaches the interrupt controller only
 *    through the OUT2 gate, which loopback mode forces off.
 *
 * Not thread-safe: the caller serialises every call, including the hooks'
 * effects (the hooks run inside the calls).
 */
#ifndef EM_DEV_UART_H
#define EM_DEV_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EM_UART_NR_PORTS  8
#define EM_UART_FIFO_SIZE 16

/* Register offsets: read / write / with LCR.DLAB set. */
enum em_uart_reg {
    EM_UART_RBR_THR = 0, /* DLL with DLAB */
    EM_UART_IER = 1,     /* DLM with DLAB */
    EM_UART_IIR_FCR = 2,
    EM_UART_LCR = 3,
    EM_UART_MCR = 4,
    EM_UART_LSR = 5,
    EM_UART_MSR = 6,
    EM_UART_SCR = 7,
};

#define EM_UART_IER_ERBFI 0x01 /* received data available */
#define EM_UART_IER_ETBEI 0x02 /* transmitter holding register empty */
#define EM_UART_IER_ELSI  0x04 /* receiver line status */
#define EM_UART_IER_EDSSI 0x08 /* modem status */

#define EM_UART_IIR_NONE    0x01 /* no interrupt pending */
#define EM_UART_IIR_LSR     0x06
#define EM_UART_IIR_RDA     0x04
#define EM_UART_IIR_TIMEOUT 0x0c
#define EM_UART_IIR_THRE    0x02
#define EM_UART_IIR_MSR     0x00
#define EM_UART_IIR_FIFO    0xc0 /* both bits set while the FIFOs are enabled */

#define EM_UART_FCR_ENABLE   0x01
#define EM_UART_FCR_RX_RESET 0x02
#define EM_UART_FCR_TX_RESET 0x04
#define EM_UART_FCR_TRIGGER  0xc0 /* 1, 4, 8 or 14 bytes */

#define EM_UART_LCR_DLAB 0x80

#define EM_UART_MCR_DTR  0x01
#define EM_UART_MCR_RTS  0x02
#define EM_UART_MCR_OUT1 0x04
#define EM_UART_MCR_OUT2 0x08
#define EM_UART_MCR_LOOP 0x10

#define EM_UART_LSR_DR   0x01
#define EM_UART_LSR_OE   0x02
#define EM_UART_LSR_THRE 0x20
#define EM_UART_LSR_TEMT 0x40

#define EM_UART_MSR_DCTS  0x01
#define EM_UART_MSR_DDSR  0x02
#define EM_UART_MSR_TERI  0x04
#define EM_UART_MSR_DDCD  0x08
#define EM_UART_MSR_CTS   0x10
#define EM_UART_MSR_DSR   0x20
#define EM_UART_MSR_RI    0x40
#define EM_UART_MSR_DCD   0x80
#define EM_UART_MSR_DELTA 0x0f

struct em_uart_hooks {
    /* A byte the guest transmitted (not in loopback mode). */
    void (*tx)(void *opaque, uint8_t byte);
    /* The interrupt output, gated by OUT2, changed to `level`. */
    void (*irq)(void *opaque, int level);
    /* The receiver refused input earlier and has room again. */
    void (*rx_ready)(void *opaque);
};

struct em_uart_core {
    const struct em_uart_hooks *hooks;
    void *opaque;

    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
    uint16_t divisor;
    bool thre_pending; /* the THRE interrupt, until IIR reads it or THR is written */
    int irq_level;     /* what the hook was last told */

    uint8_t rx_fifo[EM_UART_FIFO_SIZE];
    unsigned rx_head, rx_count;
    bool rx_refused; /* receive() refused bytes: call rx_ready when room appears */

    uint64_t tx_bytes, rx_bytes, overruns;
};

/* Sets the hooks (any may be NULL) and the power-on state. */
void em_uart_core_init(struct em_uart_core *u, const struct em_uart_hooks *hooks, void *opaque);
/* Master reset: registers to their power-on values, FIFOs emptied, the
 * interrupt output deasserted. Counters are kept. */
void em_uart_core_reset(struct em_uart_core *u);

/* Guest accesses; reg is the offset within the 8 ports (others read 0xff
 * and ignore writes). */
uint8_t em_uart_core_read(struct em_uart_core *u, unsigned reg);
void em_uart_core_write(struct em_uart_core *u, unsigned reg, uint8_t value);

/* The same through the bus's (offset, size) interface: an access wider
 * than a byte at offset o is the byte at o (reads zero-extended); offsets
 * past the eight ports read all-ones and ignore writes. */
uint64_t em_uart_io_read(struct em_uart_core *u, uint64_t offset, unsigned size);
void em_uart_io_write(struct em_uart_core *u, uint64_t offset, uint64_t value, unsigned size);

/*
 * Input from the outside: takes as many of the n bytes as the receiver
 * has room for (none in loopback mode, whose serial input is disconnected)
 * and returns how many. When it takes fewer than n, rx_ready is called
 * once room appears, so a caller that keeps the rest loses nothing.
 */
size_t em_uart_core_receive(struct em_uart_core *u, const uint8_t *buf, size_t n);

/* The receiver's capacity: 16 bytes with FIFOs, else the one RBR. */
unsigned em_uart_core_rx_capacity(const struct em_uart_core *u);

#endif
