/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The 16550A register model without a machine: every register, DLAB, the
 * FIFO and its trigger levels, interrupt identification and priorities,
 * the THRE interrupt rules, overruns, loopback, the OUT2 gate, reset, the
 * way Linux's 8250 driver identifies the chip, and hostile accesses.
 */
#include <stdlib.h>
#include <string.h>

#include "dev/uart.h"
#include "testutil.h"

/* ---- a fake outside world that records what the UART does ---- */

struct world {
    uint8_t tx[4096];
    size_t ntx;
    int levels[256]; /* the first levels the irq hook was given, in order */
    unsigned nlevels;
    int last;
    unsigned rx_ready;
};

static void w_tx(void *opaque, uint8_t byte)
{
    struct world *w = opaque;

    ck_assert_uint_lt(w->ntx, sizeof(w->tx));
    w->tx[w->ntx++] = byte;
}

static void w_irq(void *opaque, int level)
{
    struct world *w = opaque;

    if (w->nlevels < 256)
        w->levels[w->nlevels] = level;
    w->nlevels++;
    w->last = level;
}

static void w_rx_ready(void *opaque)
{
    struct world *w = opaque;

    w->rx_ready++;
}

static const struct em_uart_hooks hooks = { w_tx, w_irq, w_rx_ready };

static struct em_uart_core u;
static struct world w;

static void setup(void)
{
    memset(&w, 0, sizeof(w));
    em_uart_core_init(&u, &hooks, &w);
}

static uint8_t rd(unsigned reg)
{
    return em_uart_core_read(&u, reg);
}

static void wr(unsigned reg, uint8_t v)
{
    em_uart_core_write(&u, reg, v);
}

static size_t rx(const char *s)
{
    return em_uart_core_receive(&u, (const uint8_t *)s, strlen(s));
}

static int last_level(void)
{
    return w.last;
}

/* ---- power-on state ---- */

START_TEST(power_on_values)
{
    ck_assert_uint_eq(rd(EM_UART_IER), 0);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x01);
    ck_assert_uint_eq(rd(EM_UART_LCR), 0);
    ck_assert_uint_eq(rd(EM_UART_MCR), 0);
    ck_assert_uint_eq(rd(EM_UART_LSR), 0x60);
    ck_assert_uint_eq(rd(EM_UART_MSR), 0xb0); /* CTS, DSR, DCD; no deltas */
    ck_assert_uint_eq(rd(EM_UART_SCR), 0);
    ck_assert_uint_eq(rd(EM_UART_RBR_THR), 0); /* nothing received */
    wr(EM_UART_LCR, EM_UART_LCR_DLAB);
    ck_assert_uint_eq(rd(EM_UART_RBR_THR), 12); /* 9600 baud */
    ck_assert_uint_eq(rd(EM_UART_IER), 0);
    ck_assert_uint_eq(w.nlevels, 0);
    ck_assert_uint_eq(w.ntx, 0);
}
END_TEST

/* ---- plain registers ---- */

START_TEST(scratch_and_lcr_hold_every_value)
{
    for (unsigned v = 0; v < 256; v++) {
        wr(EM_UART_SCR, (uint8_t)v);
        ck_assert_uint_eq(rd(EM_UART_SCR), v);
        wr(EM_UART_LCR, (uint8_t)v);
        ck_assert_uint_eq(rd(EM_UART_LCR), v);
    }
}
END_TEST

START_TEST(ier_and_mcr_keep_only_their_bits)
{
    wr(EM_UART_IER, 0xff);
    ck_assert_uint_eq(rd(EM_UART_IER), 0x0f);
    wr(EM_UART_IER, 0xf0);
    ck_assert_uint_eq(rd(EM_UART_IER), 0);
    wr(EM_UART_MCR, 0xff);
    ck_assert_uint_eq(rd(EM_UART_MCR), 0x1f);
    wr(EM_UART_MCR, 0xe0);
    ck_assert_uint_eq(rd(EM_UART_MCR), 0);
}
END_TEST

START_TEST(lsr_and_msr_ignore_writes)
{
    wr(EM_UART_LSR, 0xff);
    ck_assert_uint_eq(rd(EM_UART_LSR), 0x60);
    wr(EM_UART_MSR, 0x0f);
    ck_assert_uint_eq(rd(EM_UART_MSR), 0xb0);
}
END_TEST

START_TEST(dlab_switches_ports_0_and_1_to_the_divisor)
{
    wr(EM_UART_IER, 0x05);
    wr(EM_UART_LCR, 0x83); /* DLAB, 8 bits */
    wr(EM_UART_RBR_THR, 0x01);
    wr(EM_UART_IER, 0x02);
    ck_assert_uint_eq(rd(EM_UART_RBR_THR), 0x01);
    ck_assert_uint_eq(rd(EM_UART_IER), 0x02);
    ck_assert_uint_eq(u.divisor, 0x0201);
    ck_assert_uint_eq(w.ntx, 0); /* a DLL write is not a transmission */
    /* Ports 2-7 do not change meaning with DLAB. */
    wr(EM_UART_SCR, 0x5a);
    ck_assert_uint_eq(rd(EM_UART_SCR), 0x5a);
    ck_assert_uint_eq(rd(EM_UART_LSR), 0x60);

    wr(EM_UART_LCR, 0x03);
    ck_assert_uint_eq(rd(EM_UART_IER), 0x05); /* IER was kept apart */
    wr(EM_UART_RBR_THR, 'A');
    ck_assert_uint_eq(w.ntx, 1);
    ck_assert_uint_eq(w.tx[0], 'A');
    wr(EM_UART_LCR, 0x83);
    ck_assert_uint_eq(rd(EM_UART_RBR_THR), 0x01); /* THR write did not touch DLL */
}
END_TEST

/* ---- transmit ---- */

START_TEST(transmit_is_synchronous)
{
    const char *msg = "hello, 16550A\n";

    for (const char *p = msg; *p; p++) {
        ck_assert_uint_eq(rd(EM_UART_LSR) & 0x60, 0x60); /* THRE and TEMT */
        wr(EM_UART_RBR_THR, (uint8_t)*p);
    }
    ck_assert_uint_eq(w.ntx, strlen(msg));
    ck_assert_mem_eq(w.tx, msg, strlen(msg));
    ck_assert_uint_eq(u.tx_bytes, strlen(msg));
    ck_assert_uint_eq(rd(EM_UART_LSR), 0x60);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x01); /* no interrupt without IER */
}
END_TEST

/* ---- receive without FIFOs: one RBR ---- */

START_TEST(receive_without_fifo_holds_one_byte)
{
    ck_assert_uint_eq(em_uart_core_rx_capacity(&u), 1);
    ck_assert_uint_eq(rx("ab"), 1);
    ck_assert_uint_eq(rd(EM_UART_LSR), 0x61);
    ck_assert_uint_eq(rx("b"), 0);
    ck_assert_uint_eq(w.rx_ready, 0);
    ck_assert_uint_eq(rd(EM_UART_RBR_THR), 'a');
    ck_assert_uint_eq(w.rx_ready, 1); /* the refused byte can come now */
    ck_assert_uint_eq(rd(EM_UART_LSR), 0x60);
    ck_assert_uint_eq(rx("b"), 1);
    ck_assert_uint_eq(rd(EM_UART_RBR_THR), 'b');
    ck_assert_uint_eq(w.rx_ready, 1); /* nothing was refused this time */
    ck_assert_uint_eq(u.rx_bytes, 2);
    ck_assert_uint_eq(u.overruns, 0);
}
END_TEST

/* ---- FIFOs ---- */

START_TEST(fifo_takes_sixteen_in_order)
{
    char in[21];

    wr(EM_UART_IIR_FCR, EM_UART_FCR_ENABLE);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0xc1);
    ck_assert_uint_eq(em_uart_core_rx_capacity(&u), 16);
    for (int i = 0; i < 20; i++)
        in[i] = (char)('a' + i);
    in[20] = '\0';
    ck_assert_uint_eq(rx(in), 16);
    ck_assert_uint_eq(rx("z"), 0);
    for (int i = 0; i < 16; i++) {
        ck_assert_uint_eq(rd(EM_UART_LSR) & EM_UART_LSR_DR, EM_UART_LSR_DR);
        ck_assert_uint_eq(rd(EM_UART_RBR_THR), (uint8_t)('a' + i));
        if (i == 0)
            ck_assert_uint_eq(w.rx_ready, 1);
    }
    ck_assert_uint_eq(rd(EM_UART_LSR) & EM_UART_LSR_DR, 0);
    ck_assert_uint_eq(w.rx_ready, 1);
    ck_assert_uint_eq(u.overruns, 0);
    /* The FIFO wraps around its ring correctly. */
    ck_assert_uint_eq(rx("0123456789"), 10);
    ck_assert_uint_eq(rd(EM_UART_RBR_THR), '0');
    ck_assert_uint_eq(rx("ABCDEFG"), 7);
    for (const char *p = "123456789ABCDEFG"; *p; p++)
        ck_assert_uint_eq(rd(EM_UART_RBR_THR), (uint8_t)*p);
    ck_assert_uint_eq(rd(EM_UART_LSR) & EM_UART_LSR_DR, 0);
}
END_TEST

static const struct {
    uint8_t fcr;
    unsigned level;
} triggers[] = { { 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 } };

START_TEST(trigger_levels)
{
    uint8_t fcr = triggers[_i].fcr;
    unsigned level = triggers[_i].level;

    wr(EM_UART_IIR_FCR, fcr);
    wr(EM_UART_IER, EM_UART_IER_ERBFI);
    for (unsigned n = 1; n <= 16; n++) {
        uint8_t iir;

        ck_assert_uint_eq(em_uart_core_receive(&u, (const uint8_t *)"x", 1), 1);
        iir = rd(EM_UART_IIR_FCR);
        /* Below the trigger, the data is announced by the timeout. */
        ck_assert_msg(iir == (n >= level ? 0xc4 : 0xcc),
                      "trigger %u, %u bytes: IIR 0x%02x, expected 0x%02x", level, n, iir,
                      n >= level ? 0xc4 : 0xcc);
    }
    /* Draining below the trigger turns it back into a timeout. */
    for (unsigned left = 15; left > 0; left--) {
        uint8_t iir;

        rd(EM_UART_RBR_THR);
        iir = rd(EM_UART_IIR_FCR);
        ck_assert_msg(iir == (left >= level ? 0xc4 : 0xcc), "trigger %u, %u left: IIR 0x%02x",
                      level, left, iir);
    }
    rd(EM_UART_RBR_THR);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0xc1);
}
END_TEST

START_TEST(fcr_resets_and_mode_changes_empty_the_fifo)
{
    wr(EM_UART_IIR_FCR, EM_UART_FCR_ENABLE);
    ck_assert_uint_eq(rx("0123456789abcdefXYZ"), 16);
    wr(EM_UART_IIR_FCR, EM_UART_FCR_ENABLE | EM_UART_FCR_RX_RESET);
    ck_assert_uint_eq(rd(EM_UART_LSR) & EM_UART_LSR_DR, 0);
    ck_assert_uint_eq(w.rx_ready, 1); /* room for the refused bytes */
    /* The reset bits do not stick, the trigger does. */
    ck_assert_uint_eq(rx("abc"), 3);
    wr(EM_UART_IIR_FCR, EM_UART_FCR_ENABLE | EM_UART_FCR_TX_RESET | 0x80);
    ck_assert_uint_eq(rd(EM_UART_LSR) & EM_UART_LSR_DR, EM_UART_LSR_DR);
    ck_assert_uint_eq(rd(EM_UART_RBR_THR), 'a');
    /* Disabling the FIFOs empties them. */
    wr(EM_UART_IIR_FCR, 0);
    ck_assert_uint_eq(rd(EM_UART_LSR) & EM_UART_LSR_DR, 0);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x01);
    ck_assert_uint_eq(em_uart_core_rx_capacity(&u), 1);
    /* Without FCR0 the other bits are not written: still no FIFO. */
    wr(EM_UART_IIR_FCR, 0xc6);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x01);
    ck_assert_uint_eq(em_uart_core_rx_capacity(&u), 1);
    /* Enabling them empties the RBR too. */
    ck_assert_uint_eq(rx("q"), 1);
    wr(EM_UART_IIR_FCR, EM_UART_FCR_ENABLE);
    ck_assert_uint_eq(rd(EM_UART_LSR) & EM_UART_LSR_DR, 0);
    /* Re-writing FCR0 = 1 without the reset bit keeps the data. */
    ck_assert_uint_eq(rx("r"), 1);
    wr(EM_UART_IIR_FCR, EM_UART_FCR_ENABLE | 0x40);
    ck_assert_uint_eq(rd(EM_UART_RBR_THR), 'r');
}
END_TEST

/* ---- interrupt identification ---- */

START_TEST(iir_priority_order)
{
    /* FIFO, trigger 1, every interrupt enabled, OUT2 on. */
    wr(EM_UART_IIR_FCR, EM_UART_FCR_ENABLE);
    wr(EM_UART_IER, 0x0f); /* also raises THRE */
    wr(EM_UART_MCR, EM_UART_MCR_OUT2 | EM_UART_MCR_RTS);
    /* Modem status delta: loopback with RTS on and DTR off changes
     * CTS (stays 1), DSR (1 -> 0), DCD (1 -> 1 through OUT2). */
    wr(EM_UART_MCR, EM_UART_MCR_LOOP | EM_UART_MCR_OUT2 | EM_UART_MCR_RTS);
    /* 17 bytes looped back: 16 received, one overrun. */
    for (int i = 0; i < 17; i++)
        wr(EM_UART_RBR_THR, (uint8_t)('A' + i));
    ck_assert_uint_eq(u.overruns, 1);

    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0xc6); /* line status first */
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0xc6); /* reading IIR does not clear it */
    ck_assert_uint_eq(rd(EM_UART_LSR), 0x63);     /* DR, OE, THRE, TEMT */
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0xc4); /* then received data */
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(rd(EM_UART_RBR_THR), (uint8_t)('A' + i));
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0xc2); /* then THRE, cleared by this read */
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0xc0); /* then modem status */
    ck_assert_uint_eq(rd(EM_UART_MSR) & EM_UART_MSR_DELTA, EM_UART_MSR_DDSR);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0xc1); /* nothing left */
    ck_assert_uint_eq(rd(EM_UART_LSR), 0x60);     /* OE was cleared by the read */
}
END_TEST

START_TEST(disabled_sources_are_not_identified)
{
    wr(EM_UART_MCR, EM_UART_MCR_OUT2);
    ck_assert_uint_eq(rx("a"), 1);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x01);
    wr(EM_UART_IER, EM_UART_IER_ELSI | EM_UART_IER_EDSSI);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x01);
    wr(EM_UART_IER, EM_UART_IER_ERBFI);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x04); /* no FIFO: RDA at one byte */
    ck_assert_int_eq(last_level(), 1);
    rd(EM_UART_RBR_THR);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x01);
    ck_assert_int_eq(last_level(), 0);
}
END_TEST

/* ---- THRE interrupt rules ---- */

START_TEST(thre_interrupt_set_and_clear)
{
    wr(EM_UART_MCR, EM_UART_MCR_OUT2);
    /* Enabling ETBEI with THR empty raises it at once. */
    wr(EM_UART_IER, EM_UART_IER_ETBEI);
    ck_assert_uint_eq(w.nlevels, 1);
    ck_assert_int_eq(last_level(), 1);
    /* Reading IIR while THRE is the source clears it. */
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x02);
    ck_assert_int_eq(last_level(), 0);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x01);
    /* Writing THR clears it and, the byte gone, raises it again: a fresh
     * edge for each byte. */
    wr(EM_UART_RBR_THR, 'x');
    ck_assert_uint_eq(w.nlevels, 3);
    ck_assert_int_eq(w.levels[2], 1);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x02);
    wr(EM_UART_RBR_THR, 'y');
    wr(EM_UART_RBR_THR, 'z');
    /* 1 (y), then 0 and 1 again for z */
    ck_assert_uint_eq(w.nlevels, 7);
    ck_assert_int_eq(w.levels[4], 1);
    ck_assert_int_eq(w.levels[5], 0);
    ck_assert_int_eq(w.levels[6], 1);
    /* Toggling ETBEI re-raises a THRE interrupt an IIR read cleared. */
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x02);
    wr(EM_UART_IER, 0);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x01);
    wr(EM_UART_IER, EM_UART_IER_ETBEI);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x02);
    /* Re-writing ETBEI while set does not. */
    wr(EM_UART_IER, EM_UART_IER_ETBEI);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x01);
}
END_TEST

START_TEST(thre_below_rx_in_priority_and_kept)
{
    wr(EM_UART_IER, EM_UART_IER_ETBEI | EM_UART_IER_ERBFI);
    ck_assert_uint_eq(rx("k"), 1);
    /* RX data hides THRE; reading IIR then does not clear THRE. */
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x04);
    rd(EM_UART_RBR_THR);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x02);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x01);
}
END_TEST

/* ---- overrun ---- */

START_TEST(overrun_without_fifo_replaces_the_byte)
{
    wr(EM_UART_MCR, EM_UART_MCR_LOOP);
    wr(EM_UART_RBR_THR, 'a');
    ck_assert_uint_eq(rd(EM_UART_LSR), 0x61);
    wr(EM_UART_RBR_THR, 'b');
    ck_assert_uint_eq(u.overruns, 1);
    ck_assert_uint_eq(rd(EM_UART_LSR), 0x63);
    ck_assert_uint_eq(rd(EM_UART_LSR), 0x61); /* OE clears on read */
    ck_assert_uint_eq(rd(EM_UART_RBR_THR), 'b');
    ck_assert_uint_eq(w.ntx, 0);
}
END_TEST

START_TEST(overrun_with_fifo_loses_the_new_byte)
{
    wr(EM_UART_IIR_FCR, EM_UART_FCR_ENABLE);
    wr(EM_UART_IER, EM_UART_IER_ELSI);
    wr(EM_UART_MCR, EM_UART_MCR_LOOP);
    for (int i = 0; i < 20; i++)
        wr(EM_UART_RBR_THR, (uint8_t)i);
    ck_assert_uint_eq(u.overruns, 4);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0xc6);
    ck_assert_uint_eq(rd(EM_UART_LSR) & EM_UART_LSR_OE, EM_UART_LSR_OE);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0xc1);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(rd(EM_UART_RBR_THR), i);
    ck_assert_uint_eq(rd(EM_UART_LSR), 0x60);
}
END_TEST

/* ---- loopback ---- */

START_TEST(loopback_modem_lines)
{
    static const struct {
        uint8_t mcr, msr_in;
    } map[] = {
        { EM_UART_MCR_RTS, EM_UART_MSR_CTS },
        { EM_UART_MCR_DTR, EM_UART_MSR_DSR },
        { EM_UART_MCR_OUT1, EM_UART_MSR_RI },
        { EM_UART_MCR_OUT2, EM_UART_MSR_DCD },
        { 0x0f, 0xf0 },
        { 0, 0 },
        { EM_UART_MCR_OUT2 | EM_UART_MCR_RTS, 0x90 }, /* Linux's probe value */
    };

    for (unsigned i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        wr(EM_UART_MCR, EM_UART_MCR_LOOP | map[i].mcr);
        ck_assert_msg((rd(EM_UART_MSR) & 0xf0) == map[i].msr_in, "MCR 0x%02x: MSR 0x%02x",
                      map[i].mcr, rd(EM_UART_MSR));
    }
    /* Out of loopback the console's lines come back. */
    wr(EM_UART_MCR, 0);
    ck_assert_uint_eq(rd(EM_UART_MSR) & 0xf0, 0xb0);
}
END_TEST

START_TEST(loopback_deltas)
{
    uint8_t msr;

    rd(EM_UART_MSR);
    wr(EM_UART_MCR, EM_UART_MCR_LOOP | EM_UART_MCR_OUT1); /* RI on; CTS, DSR, DCD off */
    msr = rd(EM_UART_MSR);
    ck_assert_uint_eq(msr, EM_UART_MSR_RI | EM_UART_MSR_DCTS | EM_UART_MSR_DDSR | EM_UART_MSR_DDCD);
    ck_assert_uint_eq(rd(EM_UART_MSR), EM_UART_MSR_RI); /* deltas clear on read */
    wr(EM_UART_MCR, EM_UART_MCR_LOOP);                  /* RI trailing edge */
    ck_assert_uint_eq(rd(EM_UART_MSR), EM_UART_MSR_TERI);
    wr(EM_UART_MCR, EM_UART_MCR_LOOP | EM_UART_MCR_OUT1); /* RI rising: no TERI */
    ck_assert_uint_eq(rd(EM_UART_MSR), EM_UART_MSR_RI);
}
END_TEST

START_TEST(loopback_data_goes_to_the_receiver)
{
    wr(EM_UART_IIR_FCR, EM_UART_FCR_ENABLE);
    wr(EM_UART_MCR, EM_UART_MCR_LOOP);
    for (const char *p = "loop"; *p; p++)
        wr(EM_UART_RBR_THR, (uint8_t)*p);
    ck_assert_uint_eq(w.ntx, 0);
    ck_assert_uint_eq(u.tx_bytes, 0);
    for (const char *p = "loop"; *p; p++)
        ck_assert_uint_eq(rd(EM_UART_RBR_THR), (uint8_t)*p);
    /* The serial input is disconnected meanwhile: outside input waits. */
    ck_assert_uint_eq(rx("outside"), 0);
    ck_assert_uint_eq(w.rx_ready, 0);
    wr(EM_UART_MCR, 0);
    ck_assert_uint_eq(w.rx_ready, 1);
    ck_assert_uint_eq(rx("outside"), 7);
    wr(EM_UART_RBR_THR, '!');
    ck_assert_uint_eq(w.ntx, 1);
}
END_TEST

/* ---- the OUT2 gate ---- */

START_TEST(out2_gates_the_interrupt)
{
    wr(EM_UART_IER, EM_UART_IER_ERBFI);
    ck_assert_uint_eq(rx("a"), 1);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x04); /* pending inside the chip... */
    ck_assert_uint_eq(w.nlevels, 0);              /* ...but not on the pin */
    wr(EM_UART_MCR, EM_UART_MCR_OUT2);
    ck_assert_uint_eq(w.nlevels, 1);
    ck_assert_int_eq(last_level(), 1);
    wr(EM_UART_MCR, EM_UART_MCR_OUT1 | EM_UART_MCR_DTR | EM_UART_MCR_RTS);
    ck_assert_int_eq(last_level(), 0);
    wr(EM_UART_MCR, EM_UART_MCR_OUT2);
    ck_assert_int_eq(last_level(), 1);
    /* Loopback forces OUT2 off at the pin. */
    wr(EM_UART_MCR, EM_UART_MCR_OUT2 | EM_UART_MCR_LOOP);
    ck_assert_int_eq(last_level(), 0);
    wr(EM_UART_MCR, EM_UART_MCR_OUT2);
    ck_assert_int_eq(last_level(), 1);
    /* Reading the byte lowers it; the hook only hears changes. */
    rd(EM_UART_RBR_THR);
    ck_assert_int_eq(last_level(), 0);
    ck_assert_uint_eq(w.nlevels, 6);
    rd(EM_UART_RBR_THR);
    rd(EM_UART_LSR);
    ck_assert_uint_eq(w.nlevels, 6);
}
END_TEST

START_TEST(received_byte_raises_the_interrupt)
{
    wr(EM_UART_IIR_FCR, 0xc1); /* trigger 14 */
    wr(EM_UART_IER, EM_UART_IER_ERBFI);
    wr(EM_UART_MCR, EM_UART_MCR_OUT2);
    ck_assert_uint_eq(w.nlevels, 0);
    ck_assert_uint_eq(rx("1"), 1);
    ck_assert_int_eq(last_level(), 1); /* a lone byte still interrupts */
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0xcc);
    ck_assert_uint_eq(rd(EM_UART_RBR_THR), '1');
    ck_assert_int_eq(last_level(), 0);
}
END_TEST

/* ---- reset ---- */

START_TEST(reset_restores_power_on_and_keeps_counters)
{
    wr(EM_UART_IIR_FCR, 0x81);
    wr(EM_UART_IER, 0x0f);
    wr(EM_UART_MCR, EM_UART_MCR_OUT2 | EM_UART_MCR_DTR);
    wr(EM_UART_SCR, 0x77);
    wr(EM_UART_LCR, 0x9b);
    wr(EM_UART_RBR_THR, 0x34);
    wr(EM_UART_LCR, 0x1b);
    wr(EM_UART_RBR_THR, 'o');
    ck_assert_uint_eq(rx("0123456789abcdefgh"), 16);
    ck_assert_int_eq(last_level(), 1);

    em_uart_core_reset(&u);
    ck_assert_int_eq(last_level(), 0);
    ck_assert_uint_eq(w.rx_ready, 1); /* the refused input may come */
    ck_assert_uint_eq(rd(EM_UART_IER), 0);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x01);
    ck_assert_uint_eq(rd(EM_UART_LCR), 0);
    ck_assert_uint_eq(rd(EM_UART_MCR), 0);
    ck_assert_uint_eq(rd(EM_UART_LSR), 0x60);
    ck_assert_uint_eq(rd(EM_UART_MSR), 0xb0);
    ck_assert_uint_eq(rd(EM_UART_SCR), 0);
    ck_assert_uint_eq(em_uart_core_rx_capacity(&u), 1);
    ck_assert_uint_eq(u.divisor, 12);
    ck_assert_uint_eq(u.tx_bytes, 1);
    ck_assert_uint_eq(u.rx_bytes, 16);
    /* Enabling ETBEI after reset raises THRE like at power-on. */
    wr(EM_UART_IER, EM_UART_IER_ETBEI);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR), 0x02);
}
END_TEST

START_TEST(null_hooks_are_allowed)
{
    struct em_uart_core bare;

    em_uart_core_init(&bare, NULL, NULL);
    em_uart_core_write(&bare, EM_UART_MCR, EM_UART_MCR_OUT2);
    em_uart_core_write(&bare, EM_UART_IER, 0x0f);
    em_uart_core_write(&bare, EM_UART_RBR_THR, 'x');
    ck_assert_uint_eq(em_uart_core_receive(&bare, (const uint8_t *)"ab", 2), 1);
    ck_assert_uint_eq(em_uart_core_read(&bare, EM_UART_RBR_THR), 'a');
    em_uart_core_reset(&bare);
    ck_assert_uint_eq(bare.tx_bytes, 1);
    ck_assert_int_eq(bare.irq_level, 0);
}
END_TEST

/* ---- Linux's 8250 autoconfig, step by step (8250_port.c) ---- */

START_TEST(linux_autoconfig_finds_a_16550a)
{
    uint8_t save_mcr, status1, status2, iir;

    /* Existence: IER reads back 0 and 0x0f. */
    wr(EM_UART_IER, 0);
    ck_assert_uint_eq(rd(EM_UART_IER) & 0x0f, 0);
    wr(EM_UART_IER, 0x0f);
    ck_assert_uint_eq(rd(EM_UART_IER) & 0x0f, 0x0f);
    wr(EM_UART_IER, 0);
    /* Loopback: MCR = LOOP | OUT2 | RTS must read MSR 0x90. */
    save_mcr = rd(EM_UART_MCR);
    wr(EM_UART_MCR, EM_UART_MCR_LOOP | 0x0a);
    ck_assert_uint_eq(rd(EM_UART_MSR) & 0xf0, 0x90);
    wr(EM_UART_MCR, save_mcr);
    /* FIFO: EFR access (LCR 0xbf, a write to port 2), then FCR = 1: IIR's
     * top bits say "16550A". */
    wr(EM_UART_LCR, 0xbf);
    wr(EM_UART_IIR_FCR, 0);
    wr(EM_UART_LCR, 0);
    wr(EM_UART_IIR_FCR, EM_UART_FCR_ENABLE);
    ck_assert_uint_eq(rd(EM_UART_IIR_FCR) >> 6, 3);
    /* No EFR: port 2 in LCR 0xbf mode does not read 0. */
    wr(EM_UART_LCR, 0xbf);
    ck_assert_uint_ne(rd(EM_UART_IIR_FCR), 0);
    /* Not a TI16750: IIR bit 5 never follows FCR bit 5. */
    wr(EM_UART_LCR, 0);
    wr(EM_UART_IIR_FCR, EM_UART_FCR_ENABLE | 0x20);
    status1 = rd(EM_UART_IIR_FCR) >> 5;
    wr(EM_UART_IIR_FCR, EM_UART_FCR_ENABLE);
    wr(EM_UART_LCR, EM_UART_LCR_DLAB);
    wr(EM_UART_IIR_FCR, EM_UART_FCR_ENABLE | 0x20);
    status2 = rd(EM_UART_IIR_FCR) >> 5;
    wr(EM_UART_IIR_FCR, EM_UART_FCR_ENABLE);
    wr(EM_UART_LCR, 0);
    ck_assert(!(status1 == 6 && status2 == 7));
    /* Not an XScale: IER bit 6 (UUE) does not stick. */
    wr(EM_UART_IER, 0x40);
    ck_assert_uint_eq(rd(EM_UART_IER) & 0x40, 0);
    /* Startup: LSR must never read 0xff, and clearing the interrupt
     * registers leaves none pending. */
    wr(EM_UART_IIR_FCR, EM_UART_FCR_ENABLE | EM_UART_FCR_RX_RESET | EM_UART_FCR_TX_RESET);
    wr(EM_UART_IIR_FCR, 0);
    rd(EM_UART_LSR);
    rd(EM_UART_RBR_THR);
    rd(EM_UART_IIR_FCR);
    rd(EM_UART_MSR);
    ck_assert_uint_ne(rd(EM_UART_LSR), 0xff);
    /* Linux's THRE test: ETBEI, IIR; off; on, IIR: both report THRE. */
    wr(EM_UART_IER, EM_UART_IER_ETBEI);
    iir = rd(EM_UART_IIR_FCR);
    ck_assert_uint_eq(iir & EM_UART_IIR_NONE, 0);
    wr(EM_UART_IER, 0);
    wr(EM_UART_IER, EM_UART_IER_ETBEI);
    iir = rd(EM_UART_IIR_FCR);
    ck_assert_uint_eq(iir & EM_UART_IIR_NONE, 0);
}
END_TEST

/* ---- hostile accesses ---- */

static const unsigned sizes[] = { 1, 2, 4, 8 };

START_TEST(wide_accesses_are_the_byte_at_the_offset)
{
    /* Two UARTs get the same writes, one as bytes and one as wide
     * accesses with junk above the low byte: they must end up equal. */
    struct em_uart_core narrow, wide;
    uint32_t seed = 12345;

    em_uart_core_init(&narrow, NULL, NULL);
    em_uart_core_init(&wide, NULL, NULL);
    for (int i = 0; i < 20000; i++) {
        unsigned off, size;
        uint64_t junk, a, b;

        seed = seed * 1103515245u + 12345u;
        off = (seed >> 8) % EM_UART_NR_PORTS;
        size = sizes[(seed >> 16) % 4];
        junk = ((uint64_t)seed << 32) | (seed ^ 0xdeadbe00u);
        if (seed & 0x80000000u) {
            em_uart_io_write(&narrow, off, junk & 0xff, 1);
            em_uart_io_write(&wide, off, junk, size);
        } else {
            a = em_uart_io_read(&narrow, off, 1);
            b = em_uart_io_read(&wide, off, size);
            ck_assert_uint_eq(a, b);
            ck_assert_uint_le(b, 0xff); /* zero-extended */
        }
        if (seed % 7 == 0) {
            ck_assert_uint_eq(em_uart_core_receive(&narrow, (const uint8_t *)"z", 1),
                              em_uart_core_receive(&wide, (const uint8_t *)"z", 1));
        }
    }
    ck_assert_mem_eq(&narrow, &wide, sizeof(narrow));
}
END_TEST

START_TEST(offsets_past_the_ports_do_nothing)
{
    struct em_uart_core before;
    static const uint64_t offs[] = {
        8, 9, 0xff, 0x3f8, 0xffffffffull, 0x100000000ull, 0x100000005ull, ~0ull
    };

    wr(EM_UART_IIR_FCR, EM_UART_FCR_ENABLE);
    wr(EM_UART_IER, 0x0f);
    rx("abc");
    before = u;
    for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
        for (unsigned s = 0; s < 4; s++) {
            em_uart_io_write(&u, offs[i], ~0ull, sizes[s]);
            ck_assert_uint_eq(em_uart_io_read(&u, offs[i], sizes[s]), 0xff);
            if (offs[i] > 0xffffffffull)
                continue; /* not a register number the core can be given */
            em_uart_core_write(&u, (unsigned)offs[i], 0xff);
            ck_assert_uint_eq(em_uart_core_read(&u, (unsigned)offs[i]), 0xff);
        }
    ck_assert_mem_eq(&before, &u, sizeof(u));
}
END_TEST

START_TEST(random_accesses_keep_the_invariants)
{
    uint32_t seed = 0xc0ffee;
    unsigned irq_calls = 0;
    const char *broken = NULL;
    int step = 0;

    for (int i = 0; i < 200000 && !broken; i++) {
        unsigned off;
        uint8_t v;

        seed = seed * 1664525u + 1013904223u;
        off = (seed >> 24) % EM_UART_NR_PORTS;
        v = (uint8_t)(seed >> 8);
        if (seed & 1)
            wr(off, v);
        else
            v = rd(off);
        if ((seed & 0x1f) == 0x10)
            rx("hostile");
        if ((seed & 0xfff) == 0x123)
            em_uart_core_reset(&u);
        /* Checked without an assertion per step (Check writes each one
         * down): the first broken invariant fails the test below. */
        if (u.rx_count > em_uart_core_rx_capacity(&u))
            broken = "rx_count above the FIFO's capacity";
        else if (u.ier & 0xf0)
            broken = "reserved IER bits set";
        else if (u.mcr & 0xe0)
            broken = "reserved MCR bits set";
        /* The pin is only ever up through OUT2 and outside loopback. */
        else if (u.irq_level && (u.mcr & (EM_UART_MCR_OUT2 | EM_UART_MCR_LOOP)) != EM_UART_MCR_OUT2)
            broken = "the interrupt pin up without OUT2 or in loopback";
        else if (u.irq_level != last_level())
            broken = "the interrupt level differs from the hook's last";
        step = i;
        irq_calls = w.nlevels;
        w.ntx = 0;
    }
    ck_assert_msg(!broken, "step %d: %s", step, broken);
    /* The hook saw only changes: consecutive levels alternate. */
    for (unsigned i = 1; i < 256 && i < irq_calls; i++)
        ck_assert_int_ne(w.levels[i], w.levels[i - 1]);
    ck_assert_uint_gt(irq_calls, 10); /* the run did exercise interrupts */
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("uart");
    TCase *tc = tcase_create("registers");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, power_on_values);
    tcase_add_test(tc, scratch_and_lcr_hold_every_value);
    tcase_add_test(tc, ier_and_mcr_keep_only_their_bits);
    tcase_add_test(tc, lsr_and_msr_ignore_writes);
    tcase_add_test(tc, dlab_switches_ports_0_and_1_to_the_divisor);
    tcase_add_test(tc, transmit_is_synchronous);
    tcase_add_test(tc, receive_without_fifo_holds_one_byte);
    tcase_add_test(tc, fifo_takes_sixteen_in_order);
    tcase_add_loop_test(tc, trigger_levels, 0, 4);
    tcase_add_test(tc, fcr_resets_and_mode_changes_empty_the_fifo);
    tcase_add_test(tc, iir_priority_order);
    tcase_add_test(tc, disabled_sources_are_not_identified);
    tcase_add_test(tc, thre_interrupt_set_and_clear);
    tcase_add_test(tc, thre_below_rx_in_priority_and_kept);
    tcase_add_test(tc, overrun_without_fifo_replaces_the_byte);
    tcase_add_test(tc, overrun_with_fifo_loses_the_new_byte);
    tcase_add_test(tc, loopback_modem_lines);
    tcase_add_test(tc, loopback_deltas);
    tcase_add_test(tc, loopback_data_goes_to_the_receiver);
    tcase_add_test(tc, out2_gates_the_interrupt);
    tcase_add_test(tc, received_byte_raises_the_interrupt);
    tcase_add_test(tc, reset_restores_power_on_and_keeps_counters);
    tcase_add_test(tc, null_hooks_are_allowed);
    tcase_add_test(tc, linux_autoconfig_finds_a_16550a);
    tcase_add_test(tc, wide_accesses_are_the_byte_at_the_offset);
    tcase_add_test(tc, offsets_past_the_ports_do_nothing);
    tcase_add_test(tc, random_accesses_keep_the_invariants);
    suite_add_tcase(s, tc);
    return s;
}

const bool test_needs_kvm = false;
