/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The i8042 through its ports, as Linux's i8042 and atkbd/psmouse drivers
 * drive it: the probe sequence, the command byte, the loopback tests, the
 * keyboard and mouse commands, interrupts per the command byte, the
 * bounded queues, and the two ways to pulse the reset line.
 */
#include <errno.h>

#include "devices.h"
#include "fake_machine.h"

#define DATA 0x60
#define CMD  0x64

#define STAT_OBF  0x01
#define STAT_IBF  0x02
#define STAT_SYS  0x04
#define STAT_CMD  0x08
#define STAT_INH  0x10
#define STAT_AUXB 0x20

static struct log_capture cap;
static struct em_machine *m;

static void setup(void)
{
    log_capture_init(&cap);
    m = fake_machine_create(128ull << 20, 1, &cap);
    ck_assert_int_eq(em_i8042_create(m), 0);
}

static void teardown(void)
{
    fake_machine_free(m);
    m = NULL;
}

static uint8_t status(void)
{
    return fake_inb(m, CMD);
}

static void command(uint8_t c)
{
    fake_outb(m, CMD, c);
}

static void data(uint8_t v)
{
    fake_outb(m, DATA, v);
}

/* Reads one byte the way Linux does: OBF must be set first. */
static uint8_t expect_byte(bool aux)
{
    uint8_t st = status();

    ck_assert_msg(st & STAT_OBF, "no byte waiting (status 0x%02x)", st);
    ck_assert_msg(!!(st & STAT_AUXB) == aux, "status 0x%02x: expected %s data", st,
                  aux ? "mouse" : "keyboard/controller");
    return fake_inb(m, DATA);
}

static void expect_bytes(bool aux, const uint8_t *want, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint8_t got = expect_byte(aux);

        ck_assert_msg(got == want[i], "byte %u: got 0x%02x, expected 0x%02x", i, got, want[i]);
    }
    ck_assert_msg(!(status() & STAT_OBF), "more bytes than expected");
}

static void expect_empty(void)
{
    ck_assert_uint_eq(status() & STAT_OBF, 0);
}

START_TEST(linux_probe_sequence)
{
    uint8_t ctr;

    /* i8042_flush(): nothing waiting, a controller is present. */
    ck_assert_uint_eq(status(), STAT_SYS | STAT_INH);
    /* i8042_controller_check() / init: read the command byte. */
    command(0x20);
    ck_assert_uint_eq(status() & STAT_CMD, STAT_CMD);
    ctr = expect_byte(false);
    ck_assert_uint_eq(ctr, 0x47);
    /* Disable both interfaces and interrupts, write it back, read it back. */
    command(0x60);
    data(0x74);
    ck_assert_uint_eq(status() & STAT_CMD, 0);
    command(0x20);
    ck_assert_uint_eq(expect_byte(false), 0x74);
    /* Self test, interface tests. */
    command(0xaa);
    ck_assert_uint_eq(expect_byte(false), 0x55);
    command(0xab);
    ck_assert_uint_eq(expect_byte(false), 0x00);
    command(0xa9);
    ck_assert_uint_eq(expect_byte(false), 0x00);
    /* i8042_check_aux(): the loopback works with the mouse port disabled
     * and comes back marked as mouse data. */
    command(0xd3);
    data(0x5a);
    ck_assert_uint_eq(expect_byte(true), 0x5a);
    /* Toggle the aux port and see the command byte follow. */
    command(0xa8);
    command(0x20);
    ck_assert_uint_eq(expect_byte(false) & 0x20, 0);
    command(0xa7);
    command(0x20);
    ck_assert_uint_eq(expect_byte(false) & 0x20, 0x20);
    command(0xae);
    command(0x20);
    ck_assert_uint_eq(expect_byte(false) & 0x10, 0);
    command(0xad);
    command(0x20);
    ck_assert_uint_eq(expect_byte(false) & 0x10, 0x10);
    expect_empty();
    ck_assert_uint_eq(status() & STAT_IBF, 0);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(sys_flag_follows_command_byte)
{
    command(0x60);
    data(0x00);
    ck_assert_uint_eq(status() & STAT_SYS, 0);
    command(0x60);
    data(0x04);
    ck_assert_uint_eq(status() & STAT_SYS, STAT_SYS);
    command(0x60);
    data(0x00);
    command(0xaa); /* a passed self test sets it */
    ck_assert_uint_eq(status() & STAT_SYS, STAT_SYS);
    ck_assert_uint_eq(expect_byte(false), 0x55);
}
END_TEST

START_TEST(controller_ram)
{
    command(0x65);
    data(0x9c);
    command(0x25);
    ck_assert_uint_eq(expect_byte(false), 0x9c);
    command(0x3f); /* the last byte, never written */
    ck_assert_uint_eq(expect_byte(false), 0x00);
}
END_TEST

START_TEST(keyboard_commands)
{
    static const uint8_t reset[] = { 0xfa, 0xaa };
    static const uint8_t id[] = { 0xfa, 0xab, 0x83 };
    static const uint8_t ack[] = { 0xfa };
    static const uint8_t ack2[] = { 0xfa, 0xfa };
    static const uint8_t get_set2[] = { 0xfa, 0xfa, 0x02 };
    static const uint8_t get_set1[] = { 0xfa, 0xfa, 0x01 };
    static const uint8_t echo[] = { 0xee };

    command(0xae);
    data(0xff);
    expect_bytes(false, reset, 2);
    data(0xf2);
    expect_bytes(false, id, 3);
    data(0xf4);
    expect_bytes(false, ack, 1);
    data(0xf5);
    expect_bytes(false, ack, 1);
    data(0xed); /* LEDs, then the argument */
    data(0x07);
    expect_bytes(false, ack2, 2);
    data(0xf0); /* get the scan code set: ack, ack, the set */
    data(0x00);
    expect_bytes(false, get_set2, 3);
    data(0xf0); /* set 1, then ask */
    data(0x01);
    expect_bytes(false, ack2, 2);
    data(0xf0);
    data(0x00);
    expect_bytes(false, get_set1, 3);
    data(0xf3);
    data(0x20);
    expect_bytes(false, ack2, 2);
    data(0xee);
    expect_bytes(false, echo, 1);
    data(0x42); /* anything else is acknowledged */
    expect_bytes(false, ack, 1);
}
END_TEST

START_TEST(mouse_commands_through_d4)
{
    static const uint8_t reset[] = { 0xfa, 0xaa, 0x00 };
    static const uint8_t id[] = { 0xfa, 0x00 };
    static const uint8_t ack2[] = { 0xfa, 0xfa };
    static const uint8_t ack[] = { 0xfa };
    static const uint8_t st[] = { 0xfa, 0x00, 0x02, 0x64 };

    command(0xa8);
    command(0xd4);
    data(0xff);
    expect_bytes(true, reset, 3);
    command(0xd4);
    data(0xf2);
    expect_bytes(true, id, 2);
    command(0xd4);
    data(0xf3); /* sample rate */
    command(0xd4);
    data(100);
    expect_bytes(true, ack2, 2);
    command(0xd4);
    data(0xe9);
    expect_bytes(true, st, 4);
    command(0xd4);
    data(0xf4);
    expect_bytes(true, ack, 1);
}
END_TEST

START_TEST(disabled_interfaces_hold_their_bytes)
{
    static const uint8_t ack[] = { 0xfa };

    command(0xad); /* keyboard off */
    data(0xf4);
    expect_empty();
    command(0xae);
    expect_bytes(false, ack, 1);

    command(0xa7); /* mouse off */
    command(0xd4);
    data(0xf4);
    expect_empty();
    command(0xa8);
    expect_bytes(true, ack, 1);
}
END_TEST

START_TEST(interrupts_follow_command_byte)
{
    /* Default command byte: both interrupts enabled. */
    command(0x20);
    ck_assert_int_eq(fake_irq_level(m, EM_I8042_GSI_KBD), 1);
    ck_assert_int_eq(fake_irq_level(m, EM_I8042_GSI_AUX), 0);
    (void)expect_byte(false);
    ck_assert_int_eq(fake_irq_level(m, EM_I8042_GSI_KBD), 0);

    command(0xd3); /* mouse data: IRQ 12, not 1 */
    data(0x11);
    ck_assert_int_eq(fake_irq_level(m, EM_I8042_GSI_AUX), 1);
    ck_assert_int_eq(fake_irq_level(m, EM_I8042_GSI_KBD), 0);
    ck_assert_uint_eq(expect_byte(true), 0x11);
    ck_assert_int_eq(fake_irq_level(m, EM_I8042_GSI_AUX), 0);

    /* Interrupts off in the command byte: the bytes come, the IRQs not. */
    command(0x60);
    data(0x44);
    command(0x20);
    ck_assert_uint_eq(expect_byte(false), 0x44);
    command(0xd3);
    data(0x22);
    ck_assert_uint_eq(expect_byte(true), 0x22);
    ck_assert_uint_eq(fake_irq_calls(m, EM_I8042_GSI_KBD), 2);
    ck_assert_uint_eq(fake_irq_calls(m, EM_I8042_GSI_AUX), 2);

    /* Enabling the interrupt with a byte waiting raises it at once. */
    command(0xd2);
    data(0x33);
    ck_assert_int_eq(fake_irq_level(m, EM_I8042_GSI_KBD), 0);
    command(0x60);
    data(0x45);
    ck_assert_int_eq(fake_irq_level(m, EM_I8042_GSI_KBD), 1);
    ck_assert_uint_eq(expect_byte(false), 0x33);
    ck_assert_int_eq(fake_irq_level(m, EM_I8042_GSI_KBD), 0);
}
END_TEST

START_TEST(reset_by_fe_exactly_once)
{
    command(0xfe);
    ck_assert_uint_eq(fake_requests(m, EM_REQ_RESET), 1);
    ck_assert_uint_eq(fake_timeline_count(m, "i8042 reset"), 1);
    /* Pulsing other lines (bit 0 set) resets nothing. */
    command(0xff);
    command(0xfd);
    ck_assert_uint_eq(fake_requests(m, EM_REQ_RESET), 1);
    ck_assert_uint_eq(fake_requests(m, EM_REQ_POWEROFF), 0);
}
END_TEST

START_TEST(reset_through_output_port)
{
    command(0xd0);
    ck_assert_uint_eq(expect_byte(false), 0x03); /* reset line high, A20 on */
    command(0xd1);
    data(0x03);
    ck_assert_uint_eq(fake_requests(m, EM_REQ_RESET), 0);
    command(0xd1);
    data(0x02); /* bit 0 low: reset */
    ck_assert_uint_eq(fake_requests(m, EM_REQ_RESET), 1);
    ck_assert_uint_eq(fake_timeline_count(m, "i8042 reset"), 1);
}
END_TEST

START_TEST(output_port_shows_buffer_owner)
{
    command(0xd2);
    data(0x99);
    command(0xd0); /* queued behind 0x99 */
    ck_assert_uint_eq(expect_byte(false), 0x99);
    /* Read while 0x99 was in the buffer: keyboard-full bit set. */
    ck_assert_uint_eq(expect_byte(false), 0x13);
}
END_TEST

START_TEST(queue_is_bounded)
{
    unsigned n = 0;

    command(0xae);
    for (int i = 0; i < 100; i++)
        data(0xf4);
    while (status() & STAT_OBF) {
        ck_assert_uint_eq(fake_inb(m, DATA), 0xfa);
        n++;
        ck_assert_uint_le(n, 100);
    }
    /* The output buffer plus a 16-byte queue. */
    ck_assert_uint_eq(n, 17);
}
END_TEST

START_TEST(reading_empty_repeats_last_byte)
{
    command(0xaa);
    ck_assert_uint_eq(expect_byte(false), 0x55);
    ck_assert_uint_eq(fake_inb(m, DATA), 0x55);
    ck_assert_uint_eq(fake_inb(m, DATA), 0x55);
    expect_empty();
}
END_TEST

START_TEST(new_command_abandons_pending_one)
{
    command(0x60); /* waits for a data byte... */
    command(0xaa); /* ...but a new command comes */
    ck_assert_uint_eq(expect_byte(false), 0x55);
    data(0xf4); /* goes to the keyboard, not into the command byte */
    command(0x20);
    ck_assert_uint_eq(expect_byte(false), 0xfa);
    ck_assert_uint_eq(expect_byte(false), 0x47);
}
END_TEST

START_TEST(unknown_commands_ignored)
{
    static const uint8_t cmds[] = { 0x00, 0x1f, 0x80, 0xa0, 0xc1, 0xe0, 0xef };

    for (unsigned i = 0; i < sizeof(cmds); i++)
        command(cmds[i]);
    expect_empty();
    command(0x20);
    ck_assert_uint_eq(expect_byte(false), 0x47);
    ck_assert_uint_eq(fake_requests(m, EM_REQ_RESET), 0);
}
END_TEST

START_TEST(machine_reset_restores_power_on_state)
{
    command(0x60);
    data(0x00);
    command(0xae);
    data(0xf2);
    ck_assert(status() & STAT_OBF);
    command(0xd2);
    data(0x01);
    command(0x60);
    data(0x01);
    ck_assert_int_eq(fake_irq_level(m, EM_I8042_GSI_KBD), 1);
    fake_machine_reset(m);
    ck_assert_int_eq(fake_irq_level(m, EM_I8042_GSI_KBD), 0);
    ck_assert_uint_eq(status(), STAT_SYS | STAT_INH);
    command(0x20);
    ck_assert_uint_eq(expect_byte(false), 0x47);
    expect_empty();
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_i8042");
    TCase *tc = tcase_create("i8042");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, linux_probe_sequence);
    tcase_add_test(tc, sys_flag_follows_command_byte);
    tcase_add_test(tc, controller_ram);
    tcase_add_test(tc, keyboard_commands);
    tcase_add_test(tc, mouse_commands_through_d4);
    tcase_add_test(tc, disabled_interfaces_hold_their_bytes);
    tcase_add_test(tc, interrupts_follow_command_byte);
    tcase_add_test(tc, reset_by_fe_exactly_once);
    tcase_add_test(tc, reset_through_output_port);
    tcase_add_test(tc, output_port_shows_buffer_owner);
    tcase_add_test(tc, queue_is_bounded);
    tcase_add_test(tc, reading_empty_repeats_last_byte);
    tcase_add_test(tc, new_command_abandons_pending_one);
    tcase_add_test(tc, unknown_commands_ignored);
    tcase_add_test(tc, machine_reset_restores_power_on_state);
    suite_add_tcase(s, tc);
    return s;
}

const bool test_needs_kvm = false;
