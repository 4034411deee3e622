/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The demo guest: the small interactive machine that ./scripts/demo runs
 * under mgmtd (vm-install --kernel demo_mb.elf), the stack's own "hello
 * world" of an OS. A multiboot kernel (mb_entry.S). It prints what it
 * found, the way an OS learns it:
 *   - the memory map the boot loader handed over (multiboot info),
 *   - the CPUs the ACPI MADT lists (RSDP scan, RSDT/XSDT, MADT),
 *   - the PCI devices on bus 0 (configuration mechanism #1),
 *   - the virtio disk: capacity, read-only flag, serial (GET_ID),
 * then serves a prompt on COM1 ("demo> ", line input with echo,
 * backspace, Ctrl-C, Ctrl-U) with four commands: help, info, disk (the
 * above, and sector 0 read back), poweroff (ACPI S5). The ACPI power
 * button (vmctl shutdown) also powers it off.
 *
 * Between keys it sleeps in hlt: COM1's interrupt (IOAPIC pin 4) and a
 * periodic LAPIC timer (for the power button) wake it, so an idle demo VM
 * costs its host nothing. Interrupts are on only during that hlt (see
 * demo_isr.S). Lines end in CR LF, as a terminal wants them.
 */
#include "guest.h"
#include "pci.h"
#include "serial.h"
#include "virtio.h"

#define PM_BASE 0xb000
#define PM1_STS (PM_BASE + 0)
#define PM1_CNT (PM_BASE + 4)
#define PM_TMR  (PM_BASE + 8)
/* One byte on a 115200-baud line (10 bits): 86.8 us of the 3.58 MHz timer. */
#define BYTE_TICKS 311u
#define PWRBTN_STS (1u << 8)
#define SLP_EN     (1u << 13)
#define SLP_TYP_S5 (5u << 10)

#define LAPIC            0xfee00000u
#define LAPIC_TPR        0x80
#define LAPIC_SVR        0xf0
#define LAPIC_LVT_TIMER  0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_DIV  0x3e0
#define LAPIC_PERIODIC   (1u << 17)
#define IOAPIC           0xfec00000u
/* KVM's APIC bus runs at 1 GHz: divided by 16, this is 50 ms. */
#define TIMER_DIV_16 0x3
#define TIMER_COUNT  3125000u

#define VEC_COM1     0x24
#define VEC_TIMER    0x30
#define VEC_SPURIOUS 0xff
#define COM1_PIN     4

#define MBI_HAS_MEM     (1u << 0)
#define MBI_HAS_CMDLINE (1u << 2)
#define MBI_HAS_MMAP    (1u << 6)

#define VIRTIO_BLK_F_RO     (1ull << 5)
#define VIRTIO_BLK_T_IN     0
#define VIRTIO_BLK_T_GET_ID 8
#define BLK_SPINS           50000000ul

#define LINE_MAX_LEN 72

/* ---- output ---- */

/*
 * A byte at the pace of a real 115200-baud line, so that the demo reads
 * like a serial console. kvmemu's UART is always ready; its console socket
 * keeps 64 KiB for a reader that falls behind, which this pace never
 * comes near.
 */
static void tx(char c)
{
    uint32_t start = inl(PM_TMR);

    while (((inl(PM_TMR) - start) & 0xffffff) < BYTE_TICKS)
        cpu_relax();
    com1_putc(c);
}

static void out_c(char c)
{
    if (c == '\n')
        tx('\r');
    tx(c);
}

static void out(const char *s)
{
    while (*s)
        out_c(*s++);
}

static void out_dec(uint64_t v)
{
    char buf[24];
    int n = 0;

    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n > 0)
        out_c(buf[--n]);
}

static void out_hex(uint64_t v, int digits)
{
    while (digits-- > 0)
        out_c("0123456789abcdef"[(v >> (4 * digits)) & 0xf]);
}

/* "639 KiB", "63 MiB". */
static void out_size(uint64_t bytes)
{
    if (bytes >= (1u << 20)) {
        out_dec(bytes >> 20);
        out(" MiB");
    } else {
        out_dec(bytes >> 10);
        out(" KiB");
    }
}

static uint32_t rd32(uintptr_t a)
{
    const volatile uint8_t *p = (const volatile uint8_t *)a;

    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(uintptr_t a)
{
    return rd32(a) | (uint64_t)rd32(a + 4) << 32;
}

/* ---- what the boot loader said ---- */

static uint32_t mbi;

static void show_memory(void)
{
    uint32_t flags = rd32(mbi), addr, len;
    uint64_t ram = 0;

    out("memory map (from the multiboot loader):\n");
    if (!(flags & MBI_HAS_MMAP)) {
        out("  none given\n");
        return;
    }
    addr = rd32(mbi + 48);
    len = rd32(mbi + 44);
    for (uint32_t off = 0; off + 24 <= len; off += rd32(addr + off) + 4) {
        uint64_t base = rd64(addr + off + 4), size = rd64(addr + off + 12);
        uint32_t type = rd32(addr + off + 20);

        out("  0x");
        out_hex(base, 16);
        out("-0x");
        out_hex(base + size - 1, 16);
        out(type == 1 ? " usable (" : type == 3 ? " ACPI (" : " reserved (");
        out_size(size);
        out(")\n");
        if (type == 1)
            ram += size;
        if (rd32(addr + off) < 20)
            break;
    }
    out("  RAM: ");
    out_size(ram);
    out(" usable\n");
    if (flags & MBI_HAS_CMDLINE) {
        const volatile char *s = (const volatile char *)(uintptr_t)rd32(mbi + 16);

        out("command line: \"");
        for (int i = 0; s && i < 256 && s[i]; i++)
            out_c(s[i]);
        out("\"\n");
    }
}

/* ---- ACPI: the CPUs ---- */

static bool checksum_ok(uintptr_t a, uint32_t len)
{
    uint8_t sum = 0;

    for (uint32_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + *(const volatile uint8_t *)(a + i));
    return sum == 0;
}

static bool sig_is(uintptr_t a, const char *sig, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (*(const volatile char *)(a + i) != sig[i])
            return false;
    return true;
}

static uintptr_t find_rsdp(void)
{
    for (uintptr_t a = 0xe0000; a < 0x100000; a += 16)
        if (sig_is(a, "RSD PTR ", 8) && checksum_ok(a, 20))
            return a;
    return 0;
}

static uintptr_t find_table(const char *sig)
{
    uintptr_t rsdp = find_rsdp(), root;
    unsigned entry;
    uint32_t len;

    if (!rsdp)
        return 0;
    /* ACPI 2.0+: the XSDT's 64-bit entries; else the RSDT's 32-bit ones. */
    if (*(const volatile uint8_t *)(rsdp + 15) >= 2 && rd64(rsdp + 24)) {
        root = (uintptr_t)rd64(rsdp + 24);
        entry = 8;
    } else {
        root = rd32(rsdp + 16);
        entry = 4;
    }
    len = rd32(root + 4);
    if (len < 36 || len > 0x10000 || !checksum_ok(root, len))
        return 0;
    for (uint32_t off = 36; off + entry <= len; off += entry) {
        uintptr_t t = (uintptr_t)(entry == 8 ? rd64(root + off) : rd32(root + off));

        if (sig_is(t, sig, 4) && checksum_ok(t, rd32(t + 4)))
            return t;
    }
    return 0;
}

static void show_cpus(void)
{
    uintptr_t madt = find_table("APIC");
    uint32_t ids[64], n = 0, len;

    out("CPUs (ACPI MADT): ");
    if (!madt) {
        out("no ACPI tables (the domain has no <acpi/>)\n");
        return;
    }
    len = rd32(madt + 4);
    for (uint32_t off = 44; off + 2 <= len;) {
        uint8_t type = *(const volatile uint8_t *)(madt + off);
        uint8_t elen = *(const volatile uint8_t *)(madt + off + 1);

        if (elen < 2)
            break;
        /* Processor local APIC (0) or x2APIC (9), enabled. */
        if (type == 0 && elen >= 8 && (rd32(madt + off + 4) & 1) && n < 64)
            ids[n++] = *(const volatile uint8_t *)(madt + off + 3);
        else if (type == 9 && elen >= 16 && (rd32(madt + off + 8) & 1) && n < 64)
            ids[n++] = rd32(madt + off + 4);
        off += elen;
    }
    out_dec(n);
    out(n == 1 ? ", APIC id" : ", APIC ids");
    for (uint32_t i = 0; i < n; i++) {
        out_c(' ');
        out_dec(ids[i]);
    }
    out("\n");
}

/* ---- PCI ---- */

static const char *pci_name(uint16_t vendor, uint16_t device, uint8_t cls, uint8_t sub)
{
    if (vendor == 0x1af4) {
        switch (device) {
        case 0x1041:
        case 0x1000:
            return "virtio network card";
        case 0x1042:
        case 0x1001:
            return "virtio block device";
        case 0x1043:
        case 0x1003:
            return "virtio console";
        case 0x1044:
        case 0x1005:
            return "virtio entropy source";
        default:
            return "virtio device";
        }
    }
    if (cls == 0x06)
        return sub == 0x00 ? "host bridge" : sub == 0x01 ? "ISA bridge" : "bridge";
    if (cls == 0x01)
        return "storage controller";
    if (cls == 0x02)
        return "network controller";
    return "device";
}

static void show_pci(void)
{
    unsigned count = 0;

    out("PCI devices (bus 0):\n");
    for (unsigned dev = 0; dev < 32; dev++) {
        for (unsigned fn = 0; fn < 8; fn++) {
            uint32_t id = pci_read32(0, dev, fn, 0), cls = pci_read32(0, dev, fn, 8);

            if ((id & 0xffff) == 0xffff) {
                if (fn == 0)
                    break;
                continue;
            }
            count++;
            out("  00:");
            out_hex(dev, 2);
            out_c('.');
            out_dec(fn);
            out_c(' ');
            out_hex(id & 0xffff, 4);
            out_c(':');
            out_hex(id >> 16, 4);
            out_c(' ');
            out(pci_name((uint16_t)id, (uint16_t)(id >> 16), (uint8_t)(cls >> 24),
                         (uint8_t)(cls >> 16)));
            out("\n");
            /* Functions 1-7 only on a multi-function device. */
            if (fn == 0 && !(pci_read8(0, dev, 0, 0x0e) & 0x80))
                break;
        }
    }
    if (!count)
        out("  none\n");
}

/* ---- the virtio disk ---- */

struct blk_req {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

static struct vdev disk;
static struct vq disk_q;
static bool have_disk, disk_ro;
static struct blk_req req;
static uint8_t sector[512] __attribute__((aligned(512)));
static uint8_t status;

static void disk_setup(void)
{
    uint64_t f;

    if (virtio_find(VIRTIO_ID_BLOCK, &disk) != 0)
        return;
    f = virtio_negotiate(&disk, VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_RO);
    if (!f || virtio_setup_queue(&disk, 0, &disk_q) != 0)
        return;
    virtio_driver_ok(&disk);
    have_disk = true;
    disk_ro = (f & VIRTIO_BLK_F_RO) != 0;
}

/* One request with a data buffer the device fills: 0, or -1. */
static int disk_request(uint32_t type, uint64_t lba, void *buf, uint32_t len)
{
    struct vbuf b[3] = {
        { &req, sizeof(req), false },
        { buf, len, true },
        { &status, 1, true },
    };

    req = (struct blk_req){ type, 0, lba };
    status = 0xff;
    vq_submit(&disk_q, b, 3);
    if (vq_wait(&disk_q, BLK_SPINS) < 0)
        return -1;
    return status == 0 ? 0 : -1;
}

static void show_disk(bool sector0)
{
    uint64_t sectors;
    char serial[21];

    out("virtio disk: ");
    if (!have_disk) {
        out("none\n");
        return;
    }
    sectors = rd64((uintptr_t)disk.device);
    out_dec(sectors);
    out(" sectors of 512 bytes (");
    out_size(sectors * 512);
    out(disk_ro ? "), read-only" : "), read-write");
    memset(serial, 0, sizeof(serial));
    if (disk_request(VIRTIO_BLK_T_GET_ID, 0, serial, 20) == 0 && serial[0]) {
        out(", serial '");
        out(serial);
        out("'\n");
    } else {
        out(", no serial\n");
    }
    if (!sector0)
        return;
    out("sector 0: ");
    if (disk_request(VIRTIO_BLK_T_IN, 0, sector, sizeof(sector)) < 0) {
        out("read error\n");
        return;
    }
    /* Text up to its end, or the first bytes in hex. */
    if (sector[0] >= 0x20 && sector[0] < 0x7f) {
        out_c('"');
        for (unsigned i = 0; i < 64 && sector[i] >= 0x20 && sector[i] < 0x7f; i++)
            out_c((char)sector[i]);
        out("\"\n");
    } else {
        for (unsigned i = 0; i < 16; i++) {
            out_hex(sector[i], 2);
            out_c(' ');
        }
        out("(no text)\n");
    }
}

/* ---- interrupts: only to wake up ---- */

struct gate {
    uint16_t off0, sel;
    uint8_t zero, type;
    uint16_t off1;
} __attribute__((packed));

static struct gate idt[256] __attribute__((aligned(8)));

extern void demo_irq_entry(void);
extern void demo_spurious_entry(void);
extern const uint32_t demo_exception_entries[32];
__attribute__((noreturn)) void demo_exception(uint32_t vector);

void demo_exception(uint32_t vector)
{
    out("\ndemo: CPU exception ");
    out_dec(vector);
    out(": stopped\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}

static void set_gate(unsigned v, uint32_t entry, uint16_t cs)
{
    idt[v] = (struct gate){ (uint16_t)entry, cs, 0, 0x8e, (uint16_t)(entry >> 16) };
}

static void intr_setup(void)
{
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };
    uint16_t cs;

    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    for (unsigned v = 0; v < 256; v++)
        set_gate(v,
                 v < 32              ? demo_exception_entries[v]
                 : v == VEC_SPURIOUS ? (uint32_t)(uintptr_t)demo_spurious_entry
                                     : (uint32_t)(uintptr_t)demo_irq_entry,
                 cs);
    __asm__ volatile("lidt %0" : : "m"(idtr));
    /* The 8259s masked: interrupts come through the IOAPIC and the LAPIC. */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    mmio_write32(LAPIC + LAPIC_TPR, 0);
    mmio_write32(LAPIC + LAPIC_SVR, 0x100 | VEC_SPURIOUS);
    /* COM1: pin 4, fixed, edge, active high, to APIC 0. */
    mmio_write32(IOAPIC, 0x10 + 2 * COM1_PIN);
    mmio_write32(IOAPIC + 0x10, VEC_COM1);
    mmio_write32(IOAPIC, 0x10 + 2 * COM1_PIN + 1);
    mmio_write32(IOAPIC + 0x10, 0);
    mmio_write32(LAPIC + LAPIC_TIMER_DIV, TIMER_DIV_16);
    mmio_write32(LAPIC + LAPIC_LVT_TIMER, LAPIC_PERIODIC | VEC_TIMER);
    mmio_write32(LAPIC + LAPIC_TIMER_INIT, TIMER_COUNT);
    /* Received-data interrupts, and OUT2, which gates the line on a PC. */
    outb(COM1_IER, 0x01);
    outb(COM1_MCR, 0x0b);
}

/* ---- commands ---- */

static void power_off(const char *why)
{
    out(why);
    out("powering off (ACPI S5)\n");
    outw(PM1_STS, PWRBTN_STS);
    outw(PM1_CNT, SLP_TYP_S5 | SLP_EN);
    for (;;)
        __asm__ volatile("cli; hlt");
}

static void cmd_help(void)
{
    out("commands:\n"
        "  help      this list\n"
        "  info      memory map, CPUs, PCI devices, disk\n"
        "  disk      the virtio disk: capacity, serial, sector 0\n"
        "  poweroff  power off through ACPI (S5)\n");
}

static void cmd_info(void)
{
    show_memory();
    show_cpus();
    show_pci();
    show_disk(false);
}

static bool word_is(const char *line, const char *w)
{
    while (*w && *line == *w)
        line++, w++;
    return !*w && (!*line || *line == ' ');
}

static void run(const char *line)
{
    while (*line == ' ')
        line++;
    if (!*line)
        return;
    if (word_is(line, "help") || word_is(line, "?"))
        cmd_help();
    else if (word_is(line, "info"))
        cmd_info();
    else if (word_is(line, "disk"))
        show_disk(true);
    else if (word_is(line, "poweroff") || word_is(line, "halt"))
        power_off("");
    else {
        out("unknown command '");
        out(line);
        out("'; type help\n");
    }
}

/* ---- the prompt ---- */

static char line[LINE_MAX_LEN + 1];
static unsigned line_len;
static bool after_cr, in_escape;

static void prompt(void)
{
    out("demo> ");
}

static void key(uint8_t c)
{
    /* A terminal's escape sequences (arrow keys): skipped. */
    if (in_escape) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '~')
            in_escape = false;
        return;
    }
    if (c == '\n' && after_cr) {
        after_cr = false;
        return;
    }
    after_cr = c == '\r';
    switch (c) {
    case '\r':
    case '\n':
        out("\n");
        line[line_len] = '\0';
        run(line);
        line_len = 0;
        prompt();
        break;
    case 0x7f:
    case '\b':
        if (line_len) {
            line_len--;
            out("\b \b");
        }
        break;
    case 0x03: /* Ctrl-C */
        out("^C\n");
        line_len = 0;
        prompt();
        break;
    case 0x15: /* Ctrl-U */
        while (line_len) {
            line_len--;
            out("\b \b");
        }
        break;
    case 0x1b:
        in_escape = true;
        break;
    default:
        if (c >= 0x20 && c < 0x7f && line_len < LINE_MAX_LEN) {
            line[line_len++] = (char)c;
            out_c((char)c);
        }
    }
}

int main(uint32_t mbi_addr);

int main(uint32_t mbi_addr)
{
    mbi = mbi_addr;
    com1_init();
    out("\nkvm-stack demo guest: booted\n");
    show_memory();
    show_cpus();
    show_pci();
    disk_setup();
    show_disk(false);
    intr_setup();
    out("Type help for the commands.\n");
    prompt();
    for (;;) {
        /* Sleep unless something is pending. sti takes effect after the
         * next instruction, so no wakeup falls between the check and the
         * hlt; the interrupt comes back here with interrupts off. */
        if (!(inb(COM1_LSR) & LSR_DR) && !(inw(PM1_STS) & PWRBTN_STS))
            __asm__ volatile("sti; hlt" ::: "memory");
        if (inw(PM1_STS) & PWRBTN_STS)
            power_off("\npower button pressed: ");
        while (inb(COM1_LSR) & LSR_DR)
            key(inb(COM1_RBR));
    }
}
