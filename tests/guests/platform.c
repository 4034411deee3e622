/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kvmemu's platform devices as a guest without firmware finds them: PCI
 * enumerated through configuration mechanism #1 and through ECAM (which
 * must agree), the CMOS RTC, fw_cfg, the POST port and the i8042. Values
 * are printed on COM1 for the host to compare with what it expects; the
 * first failed check ends the run with its own exit code (1-N), and
 * SERIAL_GUEST_OK means every check passed.
 */
#include "serial.h"

#define CAM_ADDR  0xcf8
#define CAM_DATA  0xcfc
#define ECAM_BASE 0xe0000000ul

#define RTC_INDEX 0x70
#define RTC_DATA  0x71

#define FW_CFG_SEL  0x510
#define FW_CFG_DATA 0x511

enum failure {
    F_CAM_ADDR = 1,
    F_HOST_ID,
    F_CAM_ECAM_ID,
    F_CAM_ECAM_SPACE,
    F_ECAM_WRITE,
    F_ABSENT_BUS,
    F_RTC_UIP,
    F_RTC_FORMAT,
    F_RTC_BCD,
    F_RTC_UPDATE,
    F_FW_SIG,
    F_FW_ID,
    F_FW_CPUS,
    F_FW_E820,
    F_POST,
    F_I8042_SYS,
    F_I8042_SELFTEST,
    F_NO_DEVICES,
};

static void put_hex(uint64_t v, int digits)
{
    static const char hex[] = "0123456789abcdef";

    while (digits--)
        com1_putc(hex[(v >> (4 * digits)) & 0xf]);
}

static void put_dec(uint64_t v)
{
    char buf[24];
    int n = 0;

    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n--)
        com1_putc(buf[n]);
}

static int fail(int code, const char *what)
{
    com1_puts("platform: FAIL ");
    com1_puts(what);
    com1_puts("\n");
    return code;
}

#define CHECK(cond, code)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return fail(code, #cond);                                                              \
    } while (0)

/* ---- PCI ---- */

static uint32_t cam_read(unsigned dev, unsigned fn, unsigned reg)
{
    outl(CAM_ADDR, 0x80000000u | dev << 11 | fn << 8 | (reg & 0xfc));
    return inl(CAM_DATA);
}

static uintptr_t ecam(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    return ECAM_BASE + ((uintptr_t)bus << 20 | dev << 15 | fn << 12 | reg);
}

static int check_pci(void)
{
    unsigned found = 0;

    outl(CAM_ADDR, 0x80000000u);
    CHECK(inl(CAM_ADDR) == 0x80000000u, F_CAM_ADDR);
    CHECK(cam_read(0, 0, 0) == 0x29c08086u && cam_read(0, 0, 8) >> 16 == 0x0600, F_HOST_ID);
    for (unsigned dev = 0; dev < 32; dev++) {
        for (unsigned fn = 0; fn < 8; fn++) {
            uint32_t id = cam_read(dev, fn, 0);

            CHECK(id == mmio_read32(ecam(0, dev, fn, 0)), F_CAM_ECAM_ID);
            if (id == 0xffffffffu)
                continue;
            for (unsigned reg = 4; reg < 0x100; reg += 4)
                CHECK(cam_read(dev, fn, reg) == mmio_read32(ecam(0, dev, fn, reg)),
                      F_CAM_ECAM_SPACE);
            com1_puts("pci 00:");
            put_hex(dev, 2);
            com1_putc('.');
            put_hex(fn, 1);
            com1_putc(' ');
            put_hex(id & 0xffff, 4);
            com1_putc(':');
            put_hex(id >> 16, 4);
            com1_puts(" class ");
            put_hex(cam_read(dev, fn, 8) >> 8, 6);
            com1_puts("\n");
            found++;
        }
    }
    CHECK(found >= 1, F_NO_DEVICES);
    /* A write through ECAM, read through CAM, and back. */
    mmio_write8(ecam(0, 0, 0, 0x0c), 0x10);
    CHECK((cam_read(0, 0, 0x0c) & 0xff) == 0x10, F_ECAM_WRITE);
    outl(CAM_ADDR, 0x8000000cu);
    outb(CAM_DATA, 0x00);
    CHECK(mmio_read8(ecam(0, 0, 0, 0x0c)) == 0, F_ECAM_WRITE);
    CHECK(mmio_read32(ecam(1, 0, 0, 0)) == 0xffffffffu, F_ABSENT_BUS);
    CHECK(mmio_read16(ecam(255, 31, 7, 0xffe)) == 0xffff, F_ABSENT_BUS);
    return 0;
}

/* ---- RTC ---- */

static uint8_t cmos(uint8_t idx)
{
    outb(RTC_INDEX, idx);
    return inb(RTC_DATA);
}

static int bcd_ok(uint8_t v)
{
    return (v & 0x0f) <= 9 && (v >> 4) <= 9;
}

static unsigned bcd(uint8_t v)
{
    return (v >> 4) * 10 + (v & 0x0f);
}

static void put2(unsigned v)
{
    com1_putc((char)('0' + v / 10 % 10));
    com1_putc((char)('0' + v % 10));
}

static int check_rtc(void)
{
    static const uint8_t regs[7] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32 };
    uint8_t t[7];
    unsigned polls = 0;

    /* As Linux does: wait for the update to finish, then read. */
    while (cmos(0x0a) & 0x80)
        CHECK(++polls < 100000, F_RTC_UIP);
    CHECK((cmos(0x0b) & 0x06) == 0x02, F_RTC_FORMAT); /* BCD, 24-hour */
    for (int i = 0; i < 7; i++) {
        t[i] = cmos(regs[i]);
        CHECK(bcd_ok(t[i]), F_RTC_BCD);
    }
    com1_puts("rtc ");
    put2(bcd(t[6]));
    put2(bcd(t[5]));
    com1_putc('-');
    put2(bcd(t[4]));
    com1_putc('-');
    put2(bcd(t[3]));
    com1_putc(' ');
    put2(bcd(t[2]));
    com1_putc(':');
    put2(bcd(t[1]));
    com1_putc(':');
    put2(bcd(t[0]));
    com1_puts("\n");
    /* Within a second or so the update-ended flag must show up. */
    polls = 0;
    (void)cmos(0x0c);
    while (!(cmos(0x0c) & 0x10))
        CHECK(++polls < 1000000, F_RTC_UPDATE);
    com1_puts("rtc update-ended seen\n");
    return 0;
}

/* ---- fw_cfg ---- */

static void fw_select(uint16_t key)
{
    outw(FW_CFG_SEL, key);
}

static uint64_t fw_le(int n)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++)
        v |= (uint64_t)inb(FW_CFG_DATA) << (8 * i);
    return v;
}

static uint64_t fw_be(int n)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++)
        v = v << 8 | inb(FW_CFG_DATA);
    return v;
}

static int name_is(const char *name, const char *want)
{
    while (*want)
        if (*name++ != *want++)
            return 0;
    return *name == 0;
}

static int check_fw_cfg(void)
{
    uint32_t files, e820_size = 0;
    uint16_t e820_key = 0;
    uint64_t ram;
    unsigned cpus;
    int low_ram = 0;

    fw_select(0x0000);
    CHECK(fw_le(4) == 0x554d4551, F_FW_SIG); /* "QEMU" */
    fw_select(0x0001);
    CHECK((fw_le(4) & 1) == 1, F_FW_ID);
    fw_select(0x0005);
    cpus = (unsigned)fw_le(2);
    fw_select(0x000f);
    CHECK(fw_le(2) == cpus, F_FW_CPUS);
    fw_select(0x0003);
    ram = fw_le(8);
    com1_puts("fw_cfg cpus=");
    put_dec(cpus);
    com1_puts(" ram=");
    put_dec(ram);
    com1_puts("\n");

    fw_select(0x0019);
    files = (uint32_t)fw_be(4);
    for (uint32_t i = 0; i < files && i < 64; i++) {
        char name[56];
        uint32_t size = (uint32_t)fw_be(4);
        uint16_t key = (uint16_t)fw_be(2);

        (void)fw_be(2);
        for (int j = 0; j < 56; j++)
            name[j] = (char)inb(FW_CFG_DATA);
        name[55] = 0;
        if (name_is(name, "etc/e820")) {
            e820_key = key;
            e820_size = size;
        }
    }
    CHECK(e820_key >= 0x20 && e820_size && e820_size % 20 == 0, F_FW_E820);
    fw_select(e820_key);
    for (uint32_t i = 0; i < e820_size / 20; i++) {
        uint64_t addr = fw_le(8), len = fw_le(8);
        uint32_t type = (uint32_t)fw_le(4);

        com1_puts("e820 ");
        put_hex(addr, 16);
        com1_putc(' ');
        put_hex(len, 16);
        com1_putc(' ');
        put_dec(type);
        com1_puts("\n");
        if (type == 1 && addr <= 0x100000 && addr + len >= 0x200000)
            low_ram = 1;
    }
    CHECK(low_ram, F_FW_E820);
    return 0;
}

/* ---- POST, i8042 ---- */

static int check_post_i8042(void)
{
    unsigned polls = 0;

    outb(0x80, 0x12);
    CHECK(inb(0x80) == 0x12, F_POST);
    CHECK(inb(0x64) & 0x04, F_I8042_SYS);
    outb(0x64, 0xaa);
    while (!(inb(0x64) & 0x01))
        CHECK(++polls < 1000, F_I8042_SELFTEST);
    CHECK(inb(0x60) == 0x55, F_I8042_SELFTEST);
    return 0;
}

int main(void)
{
    int ret;

    com1_init();
    com1_puts("platform: start\n");
    ret = check_pci();
    if (!ret)
        ret = check_rtc();
    if (!ret)
        ret = check_fw_cfg();
    if (!ret)
        ret = check_post_i8042();
    if (ret)
        return ret;
    com1_puts("platform: ok\n");
    return SERIAL_GUEST_OK;
}
