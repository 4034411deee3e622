/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * COM1 input by interrupt: IOAPIC pin 4 (edge, as ISA) to vector 0x24,
 * the 8259s masked, IER.ERBFI and MCR.OUT2 on, FIFOs with a 14-byte
 * trigger (so single keys arrive through the character timeout). The
 * interrupt handler drains the FIFO into a ring, the only way input
 * reaches the main loop, which sleeps in hlt until then and echoes what
 * it gets in upper case.
 *
 * Protocol with the host: the first '?' after setup is answered "ready\n"
 * (earlier input may be lost while the guest resets the FIFOs, as on real
 * hardware: the host repeats '?' until it sees that). Then every byte is
 * echoed in upper case, '?' excepted, and '.' ends with "\nbye <n>\n",
 * n being the number of receive interrupts taken; the guest exits on the
 * '!' that acknowledges it. A '#' makes the guest fail (see below).
 */
#include "intr.h"
#include "serial.h"

#define COM1_VECTOR 0x24

static volatile uint8_t ring[4096];
static volatile unsigned ring_in, ring_out;
static volatile unsigned rx_interrupts;

void isr(uint64_t vector)
{
    uint8_t iir;

    if (vector != COM1_VECTOR) {
        /* An exception or a stray interrupt: say which, and stop. */
        guest_exit((uint8_t)(0x80 | (vector & 0x3f)));
    }
    /* The pin is edge-triggered: handle every cause until IIR says none,
     * or the next byte would never interrupt. */
    while (!((iir = inb(COM1_IIR)) & 1)) {
        switch (iir & 0x0e) {
        case 0x04: /* received data */
        case 0x0c: /* character timeout */
            rx_interrupts++;
            while (inb(COM1_LSR) & LSR_DR) {
                uint8_t c = inb(COM1_RBR);

                if (ring_in - ring_out < sizeof(ring))
                    ring[ring_in++ % sizeof(ring)] = c;
            }
            break;
        case 0x06:
            inb(COM1_LSR);
            break;
        case 0x00:
            inb(COM1_MSR);
            break;
        default: /* THRE: not enabled */
            break;
        }
    }
    lapic_eoi();
}

static void setup_interrupts(void)
{
    intr_setup();
    ioapic_route(4, COM1_VECTOR);
}

/* Sleeps until the interrupt handler has put a byte in the ring. */
static int next_byte(void)
{
    for (;;) {
        __asm__ volatile("cli");
        if (ring_in != ring_out) {
            uint8_t c = ring[ring_out++ % sizeof(ring)];

            __asm__ volatile("sti");
            return c;
        }
        /* sti's shadow covers hlt: the interrupt cannot slip in between. */
        __asm__ volatile("sti; hlt");
    }
}

static void put_uint(unsigned n)
{
    char buf[12];
    int i = 0;

    do {
        buf[i++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (i)
        com1_putc(buf[--i]);
}

int main(void)
{
    int ready = 0;

    setup_interrupts();
    com1_init();
    outb(COM1_FCR, 0xc7); /* FIFOs on, both reset, trigger 14 */
    outb(COM1_MCR, 0x0b); /* DTR, RTS, OUT2 */
    outb(COM1_IER, 0x01); /* received data */
    __asm__ volatile("sti");

    for (;;) {
        int c = next_byte();

        if (c == '?') {
            if (!ready)
                com1_puts("ready\n");
            ready = 1;
            continue;
        }
        if (!ready)
            continue;
        if (c == '#') {
            /* On request, fail as emufail does: execute from the MMIO
             * window, which the host cannot do (kvmemu exits with 1). */
            __asm__ volatile("jmp *%0" : : "r"(0xd0000000ul));
        }
        com1_putc((char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c));
        if (c == '.')
            break;
    }
    com1_puts("\nbye ");
    put_uint(rx_interrupts);
    com1_putc('\n');
    /* Exit only once the host has read that: a pty's unread output dies
     * with kvmemu's side of it. */
    while (next_byte() != '!')
        ;
    return SERIAL_GUEST_OK;
}
