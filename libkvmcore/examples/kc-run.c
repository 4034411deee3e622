/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kc-run: the smallest VMM, written as documentation for libkvmcore.
 *
 * Loads a flat binary into guest RAM, puts the vCPU in real, protected or
 * long mode, relays the guest's writes to the COM1 transmit register
 * (port 0x3f8) to stdout, and exits when the guest writes a byte V to
 * port 0xf4, with status V. Any other reason the vCPU stops (a triple
 * fault, an instruction KVM cannot emulate) is described on stderr and
 * ends with status 125.
 *
 *   kc-run [--mode real|protected|long] [--load ADDR] [--mem MIB] IMAGE
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kvmcore/kvmcore.h>

#define COM1_BASE      0x3f8
#define DEBUG_EXIT     0xf4
#define GDT_ADDR       0x500
#define PAGE_TABLES    0x10000
#define EXIT_VM_FAILED 125

enum mode { MODE_REAL, MODE_PROTECTED, MODE_LONG };

/* A write-only 16550 as far as a polling guest needs: THR and LSR. */
struct uart {
    FILE *out;
};

static uint64_t uart_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    (void)size;
    /* Line status register: transmitter empty, so guests that poll go on. */
    return offset == 5 ? 0x60 : 0;
}

static void uart_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct uart *u = opaque;

    (void)size;
    if (offset == 0) {
        fputc((int)(value & 0xff), u->out);
        if ((value & 0xff) == '\n')
            fflush(u->out);
    }
}

static const struct kc_io_ops uart_ops = {
    .read = uart_read,
    .write = uart_write,
};

/* The debug-exit port is deliberately left unclaimed: the bus policy stops
 * the loop for it, and the exit handler, which knows the vCPU, takes over. */
static enum kc_unhandled_action exit_port_policy(void *opaque, const struct kc_bus_access *a)
{
    (void)opaque;
    return a->kind == KC_BUS_PIO && a->addr == DEBUG_EXIT && a->is_write ? KC_UNHANDLED_STOP
                                                                         : KC_UNHANDLED_IGNORE;
}

struct run_state {
    int status;
};

static enum kc_action handle_exit(void *opaque, struct kc_vcpu *vcpu, const struct kc_exit *exit)
{
    struct run_state *st = opaque;
    char why[256];

    (void)vcpu;
    if (exit->type == KC_EXIT_UNHANDLED && exit->reason == KVM_EXIT_IO &&
        exit->io.port == DEBUG_EXIT) {
        st->status = exit->io.data[0];
        return KC_ACTION_STOP;
    }
    fprintf(stderr, "kc-run: the guest stopped: %s\n", kc_exit_describe(exit, why, sizeof(why)));
    st->status = EXIT_VM_FAILED;
    return KC_ACTION_STOP;
}

static int load_image(struct kc_vm *vm, const char *path, uint64_t addr)
{
    struct stat st;
    void *dst;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        fprintf(stderr, "kc-run: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || st.st_size == 0) {
        fprintf(stderr, "kc-run: %s: %s\n", path, st.st_size == 0 ? "empty file" : strerror(errno));
        close(fd);
        return -1;
    }
    /* The checked accessor refuses an image that does not fit in RAM. */
    dst = kc_mem_ptr(kc_vm_mem(vm), addr, (uint64_t)st.st_size);
    if (!dst) {
        fprintf(stderr, "kc-run: %s: %lld bytes at 0x%llx do not fit in guest RAM\n", path,
                (long long)st.st_size, (unsigned long long)addr);
        close(fd);
        return -1;
    }
    for (off_t done = 0; done < st.st_size;) {
        ssize_t n = read(fd, (char *)dst + done, (size_t)(st.st_size - done));

        if (n <= 0) {
            fprintf(stderr, "kc-run: %s: %s\n", path, n < 0 ? strerror(errno) : "short read");
            close(fd);
            return -1;
        }
        done += n;
    }
    close(fd);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: kc-run [--mode real|protected|long] [--load ADDR] [--mem MIB] IMAGE\n"
               "Runs a flat guest binary; its writes to port 0x3f8 go to stdout, and a write\n"
               "of V to port 0xf4 ends the run with exit status V.\n"
               "Defaults: long mode, loaded at 0x100000 (0x1000 with CS=0x100 in real mode),\n"
               "16 MiB of RAM.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "mode", required_argument, NULL, 'm' },
        { "load", required_argument, NULL, 'l' },
        { "mem", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    enum mode mode = MODE_LONG;
    uint64_t load = 0, mem_mib = 16;
    bool load_set = false;
    struct run_state st = { EXIT_VM_FAILED };
    struct uart uart = { stdout };
    struct kc_kvm *kvm = NULL;
    struct kc_vm *vm = NULL;
    struct kc_vcpu *vcpu;
    char *end;
    int c, ret;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (!strcmp(optarg, "real"))
                mode = MODE_REAL;
            else if (!strcmp(optarg, "protected"))
                mode = MODE_PROTECTED;
            else if (!strcmp(optarg, "long"))
                mode = MODE_LONG;
            else {
                fprintf(stderr, "kc-run: --mode: '%s' is not real, protected or long\n", optarg);
                return 2;
            }
            break;
        case 'l':
            errno = 0;
            load = strtoull(optarg, &end, 0);
            if (errno || *end || end == optarg) {
                fprintf(stderr, "kc-run: --load: '%s' is not an address\n", optarg);
                return 2;
            }
            load_set = true;
            break;
        case 's':
            errno = 0;
            mem_mib = strtoull(optarg, &end, 0);
            if (errno || *end || mem_mib < 2 || mem_mib > 65536) {
                fprintf(stderr, "kc-run: --mem: '%s' is not a size between 2 and 65536 MiB\n",
                        optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    if (!load_set)
        load = mode == MODE_REAL ? 0x1000 : 0x100000;
    if (mode == MODE_REAL && (load < 0x500 || load + 0x10000 > 0xa0000 || load % 16)) {
        fprintf(stderr, "kc-run: --load: a real-mode image needs a 16-byte aligned address "
                        "between 0x500 and 0x90000\n");
        return 2;
    }

    /* 1. KVM, and a VM with the in-kernel PIC, IOAPIC, LAPIC and PIT. */
    kvm = kc_kvm_open(NULL);
    if (!kvm)
        return EXIT_VM_FAILED;
    vm = kc_vm_create(kvm, NULL);
    if (!vm)
        goto out;

    /* 2. RAM, the way a PC has it: a hole for devices from 640 KiB to 1 MiB. */
    if (!kc_vm_add_ram(vm, 0, 0xa0000, 0, "low") ||
        !kc_vm_add_ram(vm, 0x100000, (mem_mib << 20) - 0x100000, 0, "high"))
        goto out;
    if (load_image(vm, argv[optind], load) < 0)
        goto out;

    /* 3. Devices: a UART's registers, and a policy for the exit port. */
    if (kc_bus_register(kc_vm_pio_bus(vm), COM1_BASE, 8, &uart_ops, &uart, "com1") < 0)
        goto out;
    kc_bus_set_unhandled_policy(kc_vm_pio_bus(vm), exit_port_policy, NULL);

    /* 4. One vCPU, in the requested mode, starting at the image. */
    vcpu = kc_vcpu_create(vm, 0);
    if (!vcpu)
        goto out;
    if (mode == MODE_REAL)
        ret = kc_x86_setup_real_mode(vcpu, (uint16_t)(load >> 4), 0);
    else if (mode == MODE_PROTECTED)
        ret = kc_x86_setup_protected_mode(vcpu, GDT_ADDR, load);
    else
        ret = kc_x86_setup_long_mode(vcpu, GDT_ADDR, PAGE_TABLES, load);
    if (ret < 0)
        goto out;

    /* 5. Run on this thread until the exit handler says stop. */
    if (kc_vcpu_loop(vcpu, handle_exit, &st, NULL) < 0)
        st.status = EXIT_VM_FAILED;

out:
    fflush(stdout);
    kc_vm_destroy(vm);
    kc_kvm_close(kvm);
    return st.status;
}
