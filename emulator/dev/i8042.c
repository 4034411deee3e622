/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The i8042 keyboard controller (ports 0x60 data, 0x64 status/command),
 * with a keyboard and a mouse that answer commands but never send input.
 * Enough for an operating system's driver to probe the controller and
 * both ports, and for the reset line (command 0xfe, or the output port's
 * bit 0 cleared through command 0xd1) to reset the machine.
 *
 * Bytes for the guest wait in three bounded queues: the controller's own
 * answers, the keyboard's and the mouse's. The output buffer takes the
 * next byte from them in that order, a device's only while its interface
 * is enabled in the command byte. IRQ 1 (keyboard) and 12 (mouse) follow
 * the output buffer when the command byte enables them.
 *
 * Keyboard bytes are not translated to scan code set 1 (there are no key
 * presses; only the identify and get-set answers would differ, and
 * drivers accept both forms).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT  0x64

/* Status register. */
#define STAT_OBF  0x01 /* output buffer full */
#define STAT_IBF  0x02 /* input buffer full: never, writes complete at once */
#define STAT_SYS  0x04 /* system flag: self test passed */
#define STAT_CMD  0x08 /* the last write was to the command port */
#define STAT_INH  0x10 /* 1: keyboard not inhibited */
#define STAT_AUXB 0x20 /* the output buffer holds mouse data */

/* Command byte (controller RAM byte 0). */
#define CB_KBD_INT 0x01
#define CB_AUX_INT 0x02
#define CB_SYS     0x04
#define CB_KBD_DIS 0x10
#define CB_AUX_DIS 0x20
#define CB_XLATE   0x40
/* As firmware leaves it: both interrupts on, POST passed, translation on. */
#define CB_DEFAULT (CB_KBD_INT | CB_AUX_INT | CB_SYS | CB_XLATE)

/* Output port: bit 0 is the CPU reset line (0 = reset), bit 1 the A20
 * gate (always on here); bits 4 and 5 show the output buffer's owner. */
#define OUT_RESET    0x01
#define OUT_A20      0x02
#define OUT_KBD_FULL 0x10
#define OUT_AUX_FULL 0x20
#define OUT_DEFAULT  (OUT_RESET | OUT_A20)

#define I8042_RAM   32
#define I8042_QUEUE 16

#define ACK      0xfa
#define BAT_OK   0xaa
#define KBD_ID_1 0xab
#define KBD_ID_2 0x83
#define KBD_ECHO 0xee

enum source { SRC_CTRL, SRC_KBD, SRC_AUX, SRC_COUNT };

/* Entries are bytes, with QUEUE_AUX set for mouse data. */
#define QUEUE_AUX 0x100

struct byte_queue {
    uint16_t data[I8042_QUEUE];
    unsigned head, len;
};

struct i8042 {
    struct em_machine *m;
    pthread_mutex_t lock;
    uint8_t ram[I8042_RAM]; /* ram[0] is the command byte */
    uint8_t status;
    uint8_t outport;
    uint8_t obuf;
    bool obf;
    bool obuf_aux; /* the output buffer holds mouse data */
    struct byte_queue q[SRC_COUNT];
    /* A controller command waiting for its data byte (0 if none). */
    uint8_t pending_ctrl;
    /* Keyboard / mouse commands waiting for their argument (0 if none). */
    uint8_t pending_kbd, pending_aux;
    uint8_t scancode_set;
    /* The levels last driven on IRQ 1 and 12. */
    bool irq_kbd, irq_aux;
};

/* ---- output ---- */

static void queue_push(struct byte_queue *q, uint16_t v)
{
    /* A full queue drops the byte, as a device with nowhere to send it
     * would; only a guest that never reads can fill one. */
    if (q->len == I8042_QUEUE)
        return;
    q->data[(q->head + q->len) % I8042_QUEUE] = v;
    q->len++;
}

static bool queue_pop(struct byte_queue *q, uint16_t *v)
{
    if (!q->len)
        return false;
    *v = q->data[q->head];
    q->head = (q->head + 1) % I8042_QUEUE;
    q->len--;
    return true;
}

static bool source_enabled(const struct i8042 *k, enum source s)
{
    if (s == SRC_KBD)
        return !(k->ram[0] & CB_KBD_DIS);
    if (s == SRC_AUX)
        return !(k->ram[0] & CB_AUX_DIS);
    return true;
}

/* Refills the output buffer and drives the IRQ lines to match. Lock held. */
static void update(struct i8042 *k)
{
    bool kbd, aux;
    uint16_t e;

    for (enum source s = SRC_CTRL; !k->obf && s < SRC_COUNT; s++) {
        if (source_enabled(k, s) && queue_pop(&k->q[s], &e)) {
            k->obf = true;
            k->obuf = (uint8_t)e;
            k->obuf_aux = e & QUEUE_AUX;
        }
    }
    k->status &= (uint8_t) ~(STAT_OBF | STAT_AUXB);
    if (k->obf)
        k->status |= (uint8_t)(STAT_OBF | (k->obuf_aux ? STAT_AUXB : 0));
    kbd = k->obf && !k->obuf_aux && (k->ram[0] & CB_KBD_INT);
    aux = k->obf && k->obuf_aux && (k->ram[0] & CB_AUX_INT);
    if (kbd != k->irq_kbd) {
        k->irq_kbd = kbd;
        em_machine_irq(k->m, EM_I8042_GSI_KBD, kbd);
    }
    if (aux != k->irq_aux) {
        k->irq_aux = aux;
        em_machine_irq(k->m, EM_I8042_GSI_AUX, aux);
    }
}

static void push(struct i8042 *k, enum source s, uint8_t v)
{
    queue_push(&k->q[s], (uint16_t)(v | (s == SRC_AUX ? QUEUE_AUX : 0)));
}

/* ---- the keyboard and the mouse ---- */

static void kbd_command(struct i8042 *k, uint8_t v)
{
    uint8_t cmd = k->pending_kbd;

    if (cmd) {
        k->pending_kbd = 0;
        if (cmd == 0xf0 && v == 0) {
            push(k, SRC_KBD, ACK);
            push(k, SRC_KBD, k->scancode_set);
            return;
        }
        if (cmd == 0xf0 && v >= 1 && v <= 3)
            k->scancode_set = v;
        push(k, SRC_KBD, ACK);
        return;
    }
    switch (v) {
    case 0xed: /* set LEDs */
    case 0xf0: /* get/set scan code set */
    case 0xf3: /* typematic rate */
        k->pending_kbd = v;
        push(k, SRC_KBD, ACK);
        break;
    case 0xee:
        push(k, SRC_KBD, KBD_ECHO);
        break;
    case 0xf2: /* identify: an MF2 keyboard */
        push(k, SRC_KBD, ACK);
        push(k, SRC_KBD, KBD_ID_1);
        push(k, SRC_KBD, KBD_ID_2);
        break;
    case 0xff: /* reset and self test */
        k->scancode_set = 2;
        push(k, SRC_KBD, ACK);
        push(k, SRC_KBD, BAT_OK);
        break;
    default: /* enable, disable, defaults, resend, ...: acknowledged */
        push(k, SRC_KBD, ACK);
        break;
    }
}

static void aux_command(struct i8042 *k, uint8_t v)
{
    if (k->pending_aux) {
        k->pending_aux = 0;
        push(k, SRC_AUX, ACK);
        return;
    }
    switch (v) {
    case 0xe8: /* set resolution */
    case 0xf3: /* set sample rate */
        k->pending_aux = v;
        push(k, SRC_AUX, ACK);
        break;
    case 0xe9: /* status request: stream mode, 4 counts/mm, 100 samples/s */
        push(k, SRC_AUX, ACK);
        push(k, SRC_AUX, 0x00);
        push(k, SRC_AUX, 0x02);
        push(k, SRC_AUX, 0x64);
        break;
    case 0xf2: /* identify: a standard PS/2 mouse */
        push(k, SRC_AUX, ACK);
        push(k, SRC_AUX, 0x00);
        break;
    case 0xff: /* reset: self test passed, then the ID */
        push(k, SRC_AUX, ACK);
        push(k, SRC_AUX, BAT_OK);
        push(k, SRC_AUX, 0x00);
        break;
    default:
        push(k, SRC_AUX, ACK);
        break;
    }
}

/* ---- the controller ---- */

static void request_reset(struct i8042 *k)
{
    em_timeline_mark(em_machine_timeline(k->m), "i8042 reset");
    em_machine_request(k->m, EM_REQ_RESET, 0);
}

static uint8_t output_port(const struct i8042 *k)
{
    uint8_t v = k->outport & (uint8_t) ~(OUT_KBD_FULL | OUT_AUX_FULL);

    if (k->obf)
        v |= k->obuf_aux ? OUT_AUX_FULL : OUT_KBD_FULL;
    return v;
}

static void set_command_byte(struct i8042 *k, uint8_t v)
{
    k->ram[0] = v;
    k->status = (uint8_t)((k->status & ~STAT_SYS) | (v & CB_SYS ? STAT_SYS : 0));
}

/* Returns true if the reset line was pulsed (acted on without the lock). */
static bool ctrl_command(struct i8042 *k, uint8_t cmd)
{
    if (cmd >= 0x20 && cmd < 0x20 + I8042_RAM) { /* read controller RAM */
        push(k, SRC_CTRL, k->ram[cmd - 0x20]);
        return false;
    }
    if (cmd >= 0x60 && cmd < 0x60 + I8042_RAM) { /* write RAM: data follows */
        k->pending_ctrl = cmd;
        return false;
    }
    if (cmd >= 0xf0) /* pulse output lines: bit 0 clear pulses reset */
        return !(cmd & 0x01);
    switch (cmd) {
    case 0xa7:
        set_command_byte(k, k->ram[0] | CB_AUX_DIS);
        break;
    case 0xa8:
        set_command_byte(k, k->ram[0] & (uint8_t)~CB_AUX_DIS);
        break;
    case 0xa9: /* mouse interface test: no fault */
    case 0xab: /* keyboard interface test: no fault */
        push(k, SRC_CTRL, 0x00);
        break;
    case 0xaa: /* controller self test */
        k->status |= STAT_SYS;
        push(k, SRC_CTRL, 0x55);
        break;
    case 0xad:
        set_command_byte(k, k->ram[0] | CB_KBD_DIS);
        break;
    case 0xae:
        set_command_byte(k, k->ram[0] & (uint8_t)~CB_KBD_DIS);
        break;
    case 0xc0: /* input port: nothing of interest */
        push(k, SRC_CTRL, 0x00);
        break;
    case 0xd0:
        push(k, SRC_CTRL, output_port(k));
        break;
    case 0xd1: /* write output port */
    case 0xd2: /* write keyboard output buffer */
    case 0xd3: /* write mouse output buffer */
    case 0xd4: /* write to the mouse */
        k->pending_ctrl = cmd;
        break;
    default: /* unknown commands are ignored, as real controllers do */
        break;
    }
    return false;
}

/* A data byte: the argument of a pending controller command, or a byte
 * for the keyboard. Returns true if it asked for a reset. */
static bool data_write(struct i8042 *k, uint8_t v)
{
    uint8_t cmd = k->pending_ctrl;

    k->pending_ctrl = 0;
    if (cmd >= 0x60 && cmd < 0x60 + I8042_RAM) {
        if (cmd == 0x60)
            set_command_byte(k, v);
        else
            k->ram[cmd - 0x60] = v;
        return false;
    }
    switch (cmd) {
    case 0xd1:
        k->outport = v;
        return !(v & OUT_RESET);
    case 0xd2:
        /* Loopback bytes appear at once, whatever the interface state:
         * drivers test the mouse port this way while it is disabled. */
        push(k, SRC_CTRL, v);
        return false;
    case 0xd3:
        queue_push(&k->q[SRC_CTRL], v | QUEUE_AUX);
        return false;
    case 0xd4:
        aux_command(k, v);
        return false;
    default:
        kbd_command(k, v);
        return false;
    }
}

/* ---- ports ---- */

static uint64_t data_read(void *opaque, uint64_t offset, unsigned size)
{
    struct i8042 *k = opaque;
    uint8_t v;

    (void)offset;
    (void)size;
    pthread_mutex_lock(&k->lock);
    /* With nothing new, the last byte is read again, as on hardware. */
    v = k->obuf;
    k->obf = false;
    update(k);
    pthread_mutex_unlock(&k->lock);
    return v;
}

static void data_port_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct i8042 *k = opaque;
    bool reset;

    (void)offset;
    (void)size;
    pthread_mutex_lock(&k->lock);
    k->status &= (uint8_t)~STAT_CMD;
    reset = data_write(k, (uint8_t)value);
    update(k);
    pthread_mutex_unlock(&k->lock);
    if (reset)
        request_reset(k);
}

static uint64_t status_read(void *opaque, uint64_t offset, unsigned size)
{
    struct i8042 *k = opaque;
    uint8_t v;

    (void)offset;
    (void)size;
    pthread_mutex_lock(&k->lock);
    v = k->status;
    pthread_mutex_unlock(&k->lock);
    return v;
}

static void command_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct i8042 *k = opaque;
    bool reset;

    (void)offset;
    (void)size;
    pthread_mutex_lock(&k->lock);
    k->status |= STAT_CMD;
    /* A new command abandons one still waiting for its data byte. */
    k->pending_ctrl = 0;
    reset = ctrl_command(k, (uint8_t)value);
    update(k);
    pthread_mutex_unlock(&k->lock);
    if (reset)
        request_reset(k);
}

static const struct kc_io_ops data_ops = { .read = data_read, .write = data_port_write };
static const struct kc_io_ops command_ops = { .read = status_read, .write = command_write };

/* ---- life cycle ---- */

static void i8042_reset(void *state)
{
    struct i8042 *k = state;

    pthread_mutex_lock(&k->lock);
    memset(k->ram, 0, sizeof(k->ram));
    memset(k->q, 0, sizeof(k->q));
    k->obuf = 0;
    k->obf = false;
    k->obuf_aux = false;
    k->pending_ctrl = k->pending_kbd = k->pending_aux = 0;
    k->outport = OUT_DEFAULT;
    k->scancode_set = 2;
    k->status = STAT_INH;
    set_command_byte(k, CB_DEFAULT);
    update(k);
    pthread_mutex_unlock(&k->lock);
}

static void i8042_destroy(void *state)
{
    struct i8042 *k = state;

    pthread_mutex_destroy(&k->lock);
    free(k);
}

static const struct em_device_ops i8042_dev = { .reset = i8042_reset, .destroy = i8042_destroy };

int em_i8042_create(struct em_machine *m)
{
    struct i8042 *k = calloc(1, sizeof(*k));
    int ret;

    if (!k) {
        kc_log(em_machine_logger(m), KC_LOG_ERROR, "i8042: out of memory");
        return -ENOMEM;
    }
    k->m = m;
    pthread_mutex_init(&k->lock, NULL);
    i8042_reset(k);
    ret = em_machine_add_device(m, "i8042", k, &i8042_dev);
    if (ret < 0) {
        i8042_destroy(k);
        return ret;
    }
    ret = em_machine_pio(m, I8042_DATA_PORT, 1, &data_ops, k, "i8042-data");
    if (ret == 0)
        ret = em_machine_pio(m, I8042_CMD_PORT, 1, &command_ops, k, "i8042-command");
    return ret;
}
