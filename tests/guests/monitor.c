/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest the monitor's tests control: prints "boot", then "tick N"
 * every 50 ms of PM-timer time (so stop and cont can be seen in its
 * output on any host), and acts like a small OS:
 *   - the ACPI power button (PM1_STS.PWRBTN_STS, polled) makes it print
 *     "power button" and power off through S5;
 *   - 'p' on COM1 makes it panic through pvpanic (port 0x505);
 *   - 'r' on COM1 makes it read sector 0 of its virtio disk (if it has
 *     one) and print "read ok" or "read error".
 */
#include "vguest.h"
#include "virtio.h"

#define PM_BASE       0xb000
#define PM1_STS       (PM_BASE + 0)
#define PM1_CNT       (PM_BASE + 4)
#define PM_TMR        (PM_BASE + 8)
#define PWRBTN_STS    (1u << 8)
#define SLP_EN        (1u << 13)
#define SLP_TYP_S5    (5u << 10)
#define PM_TMR_HZ     3579545u
#define TICK          (PM_TMR_HZ / 20)
#define PVPANIC       0x505
#define PVPANIC_PANIC 1
#define T_IN          0
#define BLK_TIMEOUT   50000000ul

struct blk_req {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

static struct vdev disk;
static struct vq q;
static bool have_disk;
static struct blk_req hdr;
static uint8_t sector[512] __attribute__((aligned(512)));
static uint8_t status;

static void put_dec(uint64_t v)
{
    char buf[24];
    int n = 0;

    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n > 0)
        com1_putc(buf[--n]);
}

static void read_sector0(void)
{
    struct vbuf b[3] = {
        { &hdr, sizeof(hdr), false },
        { sector, sizeof(sector), true },
        { &status, 1, true },
    };

    if (!have_disk) {
        com1_puts("read no disk\n");
        return;
    }
    hdr = (struct blk_req){ T_IN, 0, 0 };
    status = 0xee;
    vq_submit(&q, b, 3);
    if (vq_wait(&q, BLK_TIMEOUT) < 0)
        com1_puts("read timeout\n");
    else
        com1_puts(status == 0 ? "read ok\n" : "read error\n");
}

static void power_off(void)
{
    com1_puts("power button\n");
    outw(PM1_STS, PWRBTN_STS);
    outw(PM1_CNT, SLP_TYP_S5);
    outw(PM1_CNT, SLP_TYP_S5 | SLP_EN);
}

int main(void)
{
    uint32_t last;
    uint64_t ticks = 0;

    com1_init();
    if (virtio_find(VIRTIO_ID_BLOCK, &disk) == 0) {
        virtio_negotiate(&disk, VIRTIO_F_VERSION_1);
        have_disk = virtio_setup_queue(&disk, 0, &q) == 0;
        virtio_driver_ok(&disk);
    }
    com1_puts("boot\n");
    last = inl(PM_TMR);
    for (;;) {
        uint32_t now = inl(PM_TMR);

        /* The timer has 24 bits. */
        if (((now - last) & 0xffffff) >= TICK) {
            last = now;
            com1_puts("tick ");
            put_dec(++ticks);
            com1_putc('\n');
        }
        if (inw(PM1_STS) & PWRBTN_STS)
            power_off();
        if (inb(COM1_LSR) & LSR_DR) {
            uint8_t c = inb(COM1_RBR);

            if (c == 'p') {
                com1_puts("panic\n");
                outb(PVPANIC, PVPANIC_PANIC);
            } else if (c == 'r') {
                read_sector0();
            }
        }
    }
}
