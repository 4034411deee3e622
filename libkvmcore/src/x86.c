/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Boot-time GDT, identity page tables, and the standard CPU modes. */
#include <errno.h>
#include <string.h>

#include "internal.h"

#define CR0_PE   (1ull << 0)
#define CR0_ET   (1ull << 4)
#define CR0_NW   (1ull << 29)
#define CR0_CD   (1ull << 30)
#define CR0_PG   (1ull << 31)
#define CR4_PAE  (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define PTE_P  (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PS (1ull << 7)

/* Descriptors: base 0, limit 4 GiB with 4 KiB granularity; type 0xb is
 * execute/read accessed, 0x3 read/write accessed. */
static const uint64_t boot_gdt[] = {
    0,                     /* null */
    0x00cf9b000000ffffull, /* 0x08: 32-bit code (D=1) */
    0x00af9b000000ffffull, /* 0x10: 64-bit code (L=1) */
    0x00cf93000000ffffull, /* 0x18: data */
};

_Static_assert(sizeof(boot_gdt) == KC_X86_GDT_SIZE, "GDT size");

int kc_x86_write_gdt(const struct kc_mem *mem, uint64_t gdt_gpa)
{
    if (kc_mem_write(mem, gdt_gpa, boot_gdt, sizeof(boot_gdt)) < 0) {
        KCI_ERR(&mem->log, "boot GDT at 0x%llx: not inside guest RAM", (unsigned long long)gdt_gpa);
        return -EFAULT;
    }
    return 0;
}

int kc_x86_write_page_tables(const struct kc_mem *mem, uint64_t pt_gpa, uint64_t *cr3)
{
    uint64_t *pt =
        (pt_gpa & (KCI_PAGE_SIZE - 1)) ? NULL : kc_mem_ptr_rw(mem, pt_gpa, KC_X86_PAGE_TABLES_SIZE);
    uint64_t *pml4, *pdpt, *pd;

    if (!pt) {
        KCI_ERR(&mem->log,
                "page tables at 0x%llx: need %u bytes of writable guest RAM, "
                "4 KiB aligned",
                (unsigned long long)pt_gpa, KC_X86_PAGE_TABLES_SIZE);
        return -EFAULT;
    }
    memset(pt, 0, KC_X86_PAGE_TABLES_SIZE);
    pml4 = pt;
    pdpt = pt + 512;
    pd = pt + 1024;
    pml4[0] = (pt_gpa + 0x1000) | PTE_P | PTE_RW;
    for (uint64_t i = 0; i < 4; i++) {
        pdpt[i] = (pt_gpa + 0x2000 + i * 0x1000) | PTE_P | PTE_RW;
        for (uint64_t j = 0; j < 512; j++)
            pd[i * 512 + j] = ((i << 30) | (j << 21)) | PTE_P | PTE_RW | PTE_PS;
    }
    *cr3 = pt_gpa;
    return 0;
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code64)
{
    memset(s, 0, sizeof(*s));
    s->base = 0;
    s->limit = 0xffffffff;
    s->selector = sel;
    s->type = type;
    s->present = 1;
    s->dpl = 0;
    s->db = code64 ? 0 : 1;
    s->s = 1;
    s->l = code64 ? 1 : 0;
    s->g = 1;
}

static int set_entry_regs(struct kc_vcpu *vcpu, uint64_t entry)
{
    struct kvm_regs regs;

    memset(&regs, 0, sizeof(regs));
    regs.rflags = 2; /* bit 1 is reserved and always set */
    regs.rip = entry;
    return kc_vcpu_set_regs(vcpu, &regs);
}

int kc_x86_setup_real_mode(struct kc_vcpu *vcpu, uint16_t cs, uint16_t ip)
{
    struct kvm_sregs s;
    struct kvm_segment *segs[] = { &s.cs, &s.ds, &s.es, &s.fs, &s.gs, &s.ss };
    int ret = kc_vcpu_get_sregs(vcpu, &s);

    if (ret < 0)
        return ret;
    for (unsigned i = 0; i < KCI_ARRAY_SIZE(segs); i++) {
        segs[i]->selector = cs;
        segs[i]->base = (uint64_t)cs << 4;
        segs[i]->limit = 0xffff;
    }
    s.cr0 &= ~(CR0_PE | CR0_PG);
    ret = kc_vcpu_set_sregs(vcpu, &s);
    return ret < 0 ? ret : set_entry_regs(vcpu, ip);
}

static int setup_flat(struct kc_vcpu *vcpu, uint64_t gdt_gpa, uint64_t entry, bool lm, uint64_t cr3)
{
    struct kvm_sregs s;
    int ret = kc_vcpu_get_sregs(vcpu, &s);

    if (ret < 0)
        return ret;
    s.gdt.base = gdt_gpa;
    s.gdt.limit = KC_X86_GDT_SIZE - 1;
    flat_segment(&s.cs, lm ? KC_X86_SEL_CODE64 : KC_X86_SEL_CODE32, 0xb, lm);
    flat_segment(&s.ds, KC_X86_SEL_DATA, 0x3, false);
    s.es = s.fs = s.gs = s.ss = s.ds;
    /* Whatever mode the vCPU was in before, this is the whole of the new
     * one: no paging, no PAE, no long mode unless asked for. */
    s.cr0 = (s.cr0 & ~(CR0_CD | CR0_NW | CR0_PG)) | CR0_PE | CR0_ET;
    s.cr4 = 0;
    s.cr3 = 0;
    s.efer &= ~(EFER_LME | EFER_LMA);
    if (lm) {
        s.cr3 = cr3;
        s.cr4 = CR4_PAE;
        s.efer |= EFER_LME | EFER_LMA;
        s.cr0 |= CR0_PG;
    }
    ret = kc_vcpu_set_sregs(vcpu, &s);
    return ret < 0 ? ret : set_entry_regs(vcpu, entry);
}

int kc_x86_setup_protected_mode(struct kc_vcpu *vcpu, uint64_t gdt_gpa, uint64_t entry)
{
    int ret = kc_x86_write_gdt(vcpu->vm->mem, gdt_gpa);

    return ret < 0 ? ret : setup_flat(vcpu, gdt_gpa, entry, false, 0);
}

int kc_x86_setup_long_mode(struct kc_vcpu *vcpu, uint64_t gdt_gpa, uint64_t pt_gpa, uint64_t entry)
{
    uint64_t cr3;
    int ret = kc_x86_write_gdt(vcpu->vm->mem, gdt_gpa);

    if (ret == 0)
        ret = kc_x86_write_page_tables(vcpu->vm->mem, pt_gpa, &cr3);
    return ret < 0 ? ret : setup_flat(vcpu, gdt_gpa, entry, true, cr3);
}
