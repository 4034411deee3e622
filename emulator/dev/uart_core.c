/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The 16550A register model (uart.h): registers, the receive FIFO, the
 * interrupt identification and the modem-control loopback, as the NatSemi
 * PC16550D datasheet describes them.
 */
#include <string.h>

#include "dev/uart.h"

/* The divisor after reset: 9600 baud from the PC's 1.8432 MHz clock. The
 * datasheet leaves it undefined; a fixed value keeps resets reproducible. */
#define RESET_DIVISOR 12

static const uint8_t trigger_levels[4] = { 1, 4, 8, 14 };

static bool fifo_enabled(const struct em_uart_core *u)
{
    return u->fcr & EM_UART_FCR_ENABLE;
}

unsigned em_uart_core_rx_capacity(const struct em_uart_core *u)
{
    return fifo_enabled(u) ? EM_UART_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct em_uart_core *u)
{
    return fifo_enabled(u) ? trigger_levels[(u->fcr & EM_UART_FCR_TRIGGER) >> 6] : 1;
}

/* The highest-priority enabled interrupt, as IIR bits 0-3. */
static uint8_t pending_source(const struct em_uart_core *u)
{
    if ((u->ier & EM_UART_IER_ELSI) && (u->lsr & EM_UART_LSR_OE))
        return EM_UART_IIR_LSR;
    if ((u->ier & EM_UART_IER_ERBFI) && u->rx_count)
        return u->rx_count >= rx_trigger(u) ? EM_UART_IIR_RDA : EM_UART_IIR_TIMEOUT;
    if ((u->ier & EM_UART_IER_ETBEI) && u->thre_pending)
        return EM_UART_IIR_THRE;
    if ((u->ier & EM_UART_IER_EDSSI) && (u->msr & EM_UART_MSR_DELTA))
        return EM_UART_IIR_MSR;
    return EM_UART_IIR_NONE;
}

/* The pin as the interrupt controller sees it: OUT2 gates it on a PC, and
 * loopback forces OUT2 inactive. */
static void update_irq(struct em_uart_core *u)
{
    int level = pending_source(u) != EM_UART_IIR_NONE && (u->mcr & EM_UART_MCR_OUT2) &&
                !(u->mcr & EM_UART_MCR_LOOP);

    if (level == u->irq_level)
        return;
    u->irq_level = level;
    if (u->hooks && u->hooks->irq)
        u->hooks->irq(u->opaque, level);
}

/* Called whenever the receiver may have gained room. */
static void rx_room_changed(struct em_uart_core *u)
{
    if (!u->rx_refused || (u->mcr & EM_UART_MCR_LOOP) || u->rx_count >= em_uart_core_rx_capacity(u))
        return;
    u->rx_refused = false;
    if (u->hooks && u->hooks->rx_ready)
        u->hooks->rx_ready(u->opaque);
}

static void rx_clear(struct em_uart_core *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
}

/* One byte into the receiver; a full receiver is an overrun. */
static void rx_push(struct em_uart_core *u, uint8_t byte)
{
    unsigned cap = em_uart_core_rx_capacity(u);

    if (u->rx_count == cap) {
        u->lsr |= EM_UART_LSR_OE;
        u->overruns++;
        /* Without FIFOs the new character replaces the unread one; with
         * them, the one in the shift register is lost. */
        if (!fifo_enabled(u))
            u->rx_fifo[u->rx_head] = byte;
        return;
    }
    u->rx_fifo[(u->rx_head + u->rx_count) % EM_UART_FIFO_SIZE] = byte;
    u->rx_count++;
    u->rx_bytes++;
}

static uint8_t rx_pop(struct em_uart_core *u)
{
    uint8_t byte;

    if (!u->rx_count)
        return 0;
    byte = u->rx_fifo[u->rx_head];
    u->rx_head = (u->rx_head + 1) % EM_UART_FIFO_SIZE;
    u->rx_count--;
    return byte;
}

/* The modem inputs: a connected console, or the outputs looped back. */
static uint8_t modem_inputs(const struct em_uart_core *u)
{
    uint8_t in = 0;

    if (!(u->mcr & EM_UART_MCR_LOOP))
        return EM_UART_MSR_CTS | EM_UART_MSR_DSR | EM_UART_MSR_DCD;
    if (u->mcr & EM_UART_MCR_RTS)
        in |= EM_UART_MSR_CTS;
    if (u->mcr & EM_UART_MCR_DTR)
        in |= EM_UART_MSR_DSR;
    if (u->mcr & EM_UART_MCR_OUT1)
        in |= EM_UART_MSR_RI;
    if (u->mcr & EM_UART_MCR_OUT2)
        in |= EM_UART_MSR_DCD;
    return in;
}

/* New modem inputs, with the delta bits the change sets. */
static void set_modem_inputs(struct em_uart_core *u, uint8_t in)
{
    uint8_t old = u->msr & 0xf0, changed = old ^ in, delta = 0;

    if (changed & EM_UART_MSR_CTS)
        delta |= EM_UART_MSR_DCTS;
    if (changed & EM_UART_MSR_DSR)
        delta |= EM_UART_MSR_DDSR;
    if (changed & EM_UART_MSR_DCD)
        delta |= EM_UART_MSR_DDCD;
    if ((old & EM_UART_MSR_RI) && !(in & EM_UART_MSR_RI))
        delta |= EM_UART_MSR_TERI; /* trailing edge only */
    u->msr = (uint8_t)(in | (u->msr & EM_UART_MSR_DELTA) | delta);
}

void em_uart_core_init(struct em_uart_core *u, const struct em_uart_hooks *hooks, void *opaque)
{
    memset(u, 0, sizeof(*u));
    u->hooks = hooks;
    u->opaque = opaque;
    em_uart_core_reset(u);
}

void em_uart_core_reset(struct em_uart_core *u)
{
    u->ier = 0;
    u->lcr = 0;
    u->mcr = 0;
    u->lsr = 0;
    u->fcr = 0;
    u->scr = 0;
    u->divisor = RESET_DIVISOR;
    u->thre_pending = false;
    u->msr = modem_inputs(u);
    rx_clear(u);
    rx_room_changed(u);
    update_irq(u);
}

static uint8_t read_iir(struct em_uart_core *u)
{
    uint8_t src = pending_source(u);

    /* Reading IIR is one of the two ways to clear a THRE interrupt. */
    if (src == EM_UART_IIR_THRE)
        u->thre_pending = false;
    return (uint8_t)(src | (fifo_enabled(u) ? EM_UART_IIR_FIFO : 0));
}

static uint8_t read_lsr(struct em_uart_core *u)
{
    uint8_t v = (uint8_t)(u->lsr | EM_UART_LSR_THRE | EM_UART_LSR_TEMT);

    if (u->rx_count)
        v |= EM_UART_LSR_DR;
    u->lsr = 0; /* the error bits clear on read */
    return v;
}

uint8_t em_uart_core_read(struct em_uart_core *u, unsigned reg)
{
    bool dlab = u->lcr & EM_UART_LCR_DLAB;
    uint8_t v;

    switch (reg) {
    case EM_UART_RBR_THR:
        if (dlab)
            return (uint8_t)u->divisor;
        v = rx_pop(u);
        rx_room_changed(u);
        break;
    case EM_UART_IER:
        return dlab ? (uint8_t)(u->divisor >> 8) : u->ier;
    case EM_UART_IIR_FCR:
        v = read_iir(u);
        break;
    case EM_UART_LCR:
        return u->lcr;
    case EM_UART_MCR:
        return u->mcr;
    case EM_UART_LSR:
        v = read_lsr(u);
        break;
    case EM_UART_MSR:
        v = u->msr;
        u->msr &= (uint8_t)~EM_UART_MSR_DELTA;
        break;
    case EM_UART_SCR:
        return u->scr;
    default:
        return 0xff;
    }
    update_irq(u);
    return v;
}

static void write_thr(struct em_uart_core *u, uint8_t value)
{
    /* Writing THR clears the THRE interrupt; the byte leaves at once, so
     * THR is empty again and the interrupt comes back: a new edge per
     * byte, as the guest's transmit interrupt handler expects. */
    u->thre_pending = false;
    update_irq(u);
    if (u->mcr & EM_UART_MCR_LOOP) {
        rx_push(u, value);
    } else {
        u->tx_bytes++;
        if (u->hooks && u->hooks->tx)
            u->hooks->tx(u->opaque, value);
    }
    u->thre_pending = true;
}

static void write_fcr(struct em_uart_core *u, uint8_t value)
{
    bool was_enabled = fifo_enabled(u);

    if (!(value & EM_UART_FCR_ENABLE)) {
        /* FCR0 = 0 disables the FIFOs; the other bits are not written. */
        if (was_enabled)
            rx_clear(u);
        u->fcr = 0;
    } else {
        /* Switching mode empties the FIFOs, as does the reset bit. */
        if (!was_enabled || (value & EM_UART_FCR_RX_RESET))
            rx_clear(u);
        /* The transmit FIFO is always empty: nothing to reset. */
        u->fcr = value & (EM_UART_FCR_ENABLE | 0x08 | EM_UART_FCR_TRIGGER);
    }
    rx_room_changed(u);
}

static void write_mcr(struct em_uart_core *u, uint8_t value)
{
    u->mcr = value & 0x1f;
    set_modem_inputs(u, modem_inputs(u));
    /* Leaving loopback reconnects the serial input. */
    rx_room_changed(u);
}

void em_uart_core_write(struct em_uart_core *u, unsigned reg, uint8_t value)
{
    bool dlab = u->lcr & EM_UART_LCR_DLAB;

    switch (reg) {
    case EM_UART_RBR_THR:
        if (dlab)
            u->divisor = (uint16_t)((u->divisor & 0xff00) | value);
        else
            write_thr(u, value);
        break;
    case EM_UART_IER:
        if (dlab) {
            u->divisor = (uint16_t)((u->divisor & 0x00ff) | (value << 8));
            break;
        }
        /* Enabling the THRE interrupt while THR is empty raises it, even
         * if an IIR read had cleared it (Windows relies on this). */
        if ((value & EM_UART_IER_ETBEI) && !(u->ier & EM_UART_IER_ETBEI))
            u->thre_pending = true;
        u->ier = value & 0x0f;
        break;
    case EM_UART_IIR_FCR:
        write_fcr(u, value);
        break;
    case EM_UART_LCR:
        u->lcr = value;
        break;
    case EM_UART_MCR:
        write_mcr(u, value);
        break;
    case EM_UART_SCR:
        u->scr = value;
        break;
    default:
        /* LSR and MSR are read-only (their writes are factory tests). */
        return;
    }
    update_irq(u);
}

uint64_t em_uart_io_read(struct em_uart_core *u, uint64_t offset, unsigned size)
{
    (void)size;
    if (offset >= EM_UART_NR_PORTS)
        return 0xff;
    return em_uart_core_read(u, (unsigned)offset);
}

void em_uart_io_write(struct em_uart_core *u, uint64_t offset, uint64_t value, unsigned size)
{
    (void)size;
    if (offset < EM_UART_NR_PORTS)
        em_uart_core_write(u, (unsigned)offset, (uint8_t)value);
}

size_t em_uart_core_receive(struct em_uart_core *u, const uint8_t *buf, size_t n)
{
    size_t room = 0, taken;

    if (!(u->mcr & EM_UART_MCR_LOOP))
        room = em_uart_core_rx_capacity(u) - u->rx_count;
    taken = n < room ? n : room;
    for (size_t i = 0; i < taken; i++)
        rx_push(u, buf[i]);
    if (taken < n)
        u->rx_refused = true;
    update_irq(u);
    return taken;
}
