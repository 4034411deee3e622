/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the conf files share: the parse context, the strict tree-walking
 * helpers every object's parser uses, and each object's parse and format
 * functions (which sit side by side in that object's file).
 */
#ifndef MD_CONF_INTERNAL_H
#define MD_CONF_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "buf.h"
#include "domain.h"
#include "err.h"

/* Per-parse state of the implicit devices (duplicates, the virtio-serial
 * controller waiting for its console). */
struct md_implicit_seen {
    bool usb, pci_root, mouse, keyboard, memballoon;
    int vserial_line; /* 0: no virtio-serial controller */
};

/* What one parse remembers between elements, for the checks across them. */
struct md_seen {
    int name_line, uuid_line, memory_line, vcpu_line, os_line, devices_line;
    bool uuid;
    bool current;
    uint64_t current_kib;
    int current_line;
    bool vcpu_current;
    unsigned vcpu_current_n;
    unsigned nic_mac_missing; /* bit i: nics[i] had no <mac> */
    int serial_line, serial_console_line;
    int emulator_line;
    struct md_implicit_seen implicit;
};

struct md_pctx {
    struct md_err *err;
    const struct md_parse_opts *opts; /* never NULL */
    const char *source;               /* NULL, or prefixes every message */
    struct md_domain_def *def;
    struct md_seen seen;
};

/* ---- errors (xml.c): each returns -EINVAL (or the given code) ---- */

/* "line N: <elem type='x'>: ..." */
int md_fail(struct md_pctx *c, const xmlNode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "line N: <elem attr='value'>: ..." */
int md_fail_attr(struct md_pctx *c, const xmlNode *n, const char *attr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "line N: ..." (no line when 0) */
int md_fail_line(struct md_pctx *c, int code, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int md_oom(struct md_pctx *c);

/* ---- reading (xml.c) ---- */

/* The value of an attribute without a namespace, or NULL. */
const char *md_attr(const xmlNode *n, const char *name);
/* Every attribute of n is in `allowed` (NULL-terminated), or an error naming it. */
int md_attrs_only(struct md_pctx *c, const xmlNode *n, const char *const *allowed);
#define MD_ATTRS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define MD_NO_ATTRS   ((const char *const[]){ NULL })
/* An element that must have no element or text children. */
int md_empty(struct md_pctx *c, const xmlNode *n);
/* Attributes as md_attrs_only() and no content. */
int md_leaf(struct md_pctx *c, const xmlNode *n, const char *const *allowed);
/* The element's text (it must have no element children), copied; `trim`
 * strips surrounding white space. */
int md_text(struct md_pctx *c, const xmlNode *n, bool trim, char **out);
int md_strdup(struct md_pctx *c, const char *s, char **out);
int md_line(const xmlNode *n);
/* <name type='...'>, for messages. */
const char *md_desc(const xmlNode *n, char *buf, size_t size);
/* "yes"/"no" or "on"/"off" (as the attribute takes), else an error. */
int md_yes_no(struct md_pctx *c, const xmlNode *n, const char *attr, const char *yes,
              const char *no, bool *out);
/* A decimal unsigned number (leading and trailing blanks allowed). */
bool md_parse_u64(const char *s, uint64_t *out);

/* The children of an element, dispatched by name. */
struct md_child {
    const char *name;
    int (*parse)(struct md_pctx *c, xmlNode *n, void *obj);
    bool many; /* may appear more than once */
};
/* Calls each rule's parse for each element child; text other than white
 * space, unknown elements and repeated single elements are errors. */
int md_children(struct md_pctx *c, xmlNode *n, const struct md_child *rules, void *obj);

/* Why something is refused, when there is more to say than "unsupported"
 * (refuse.c). parent NULL: any parent. */
const char *md_refusal_elem(const char *parent, const char *name);
const char *md_refusal_attr(const char *elem, const char *attr);

/* ---- safe parsing and the schema (xml.c, schema.c) ---- */

/* Parses without DTDs, entities or network; NULL with the error reported. */
xmlDoc *md_xml_read(struct md_pctx *c, const char *xml, size_t len);
/* 0, or -EINVAL with libxml2's first validity error in *msg/line (the
 * caller explains it); other faults reported into c. */
int md_schema_check(struct md_pctx *c, const struct md_schema *s, xmlDoc *doc, char *msg,
                    size_t size, int *line, const xmlNode **node);
/* md_schema_validate_string(), in parse.c beside the explanation. */
int md_validate_only(const struct md_schema *schema, const char *xml, size_t len,
                     struct md_err *err);

/* ---- the objects: parse (into c->def) and format, side by side ---- */

int md_general_parse(struct md_pctx *c, xmlNode *root); /* domain.c: the top level */
/* The root is <domain type='kvm'> (checked before the schema, whose
 * message for a wrong root is obscure). */
int md_check_root(struct md_pctx *c, xmlNode *root);
/* Parse, complete and check: the whole definition from a valid document. */
int md_domain_read(struct md_pctx *c, xmlNode *root);
int md_metadata_parse(struct md_pctx *c, xmlNode *n, void *obj); /* metadata.c */
void md_metadata_format(struct md_buf *b, const struct md_domain_def *def);
int md_memory_parse(struct md_pctx *c, xmlNode *n, void *obj); /* resources.c */
int md_current_memory_parse(struct md_pctx *c, xmlNode *n, void *obj);
int md_vcpu_parse(struct md_pctx *c, xmlNode *n, void *obj);
void md_resources_format(struct md_buf *b, const struct md_domain_def *def);
int md_os_parse(struct md_pctx *c, xmlNode *n, void *obj); /* os.c */
void md_os_format(struct md_buf *b, const struct md_domain_def *def);
int md_features_parse(struct md_pctx *c, xmlNode *n, void *obj); /* features.c */
void md_features_format(struct md_buf *b, const struct md_domain_def *def);
int md_pm_parse(struct md_pctx *c, xmlNode *n, void *obj);
void md_pm_format(struct md_buf *b, const struct md_domain_def *def);
int md_lifecycle_parse(struct md_pctx *c, xmlNode *n, void *obj); /* lifecycle.c */
void md_lifecycle_format(struct md_buf *b, const struct md_domain_def *def);
int md_cpu_parse(struct md_pctx *c, xmlNode *n, void *obj); /* cpu.c */
void md_cpu_format(struct md_buf *b, const struct md_domain_def *def);
int md_cpu_check(struct md_pctx *c); /* topology against vcpus, the host's features */
void md_cpu_free(struct md_cpu *cpu);
int md_clock_parse(struct md_pctx *c, xmlNode *n, void *obj); /* clock.c */
void md_clock_format(struct md_buf *b, const struct md_domain_def *def);
int md_seclabel_parse(struct md_pctx *c, xmlNode *n, void *obj); /* domain.c */

int md_devices_parse(struct md_pctx *c, xmlNode *n, void *obj); /* devices.c */
void md_devices_format(struct md_buf *b, const struct md_domain_def *def);
int md_disk_parse(struct md_pctx *c, xmlNode *n, void *obj); /* disk.c */
void md_disk_format(struct md_buf *b, const struct md_disk *d);
void md_disk_clear(struct md_disk *d);
int md_interface_parse(struct md_pctx *c, xmlNode *n, void *obj); /* interface.c */
void md_interface_format(struct md_buf *b, const struct md_interface *nic);
void md_interface_clear(struct md_interface *nic);
int md_serial_parse(struct md_pctx *c, xmlNode *n, void *obj); /* chardev.c */
int md_console_parse(struct md_pctx *c, xmlNode *n, void *obj);
void md_chardevs_format(struct md_buf *b, const struct md_domain_def *def);
int md_rng_parse(struct md_pctx *c, xmlNode *n, void *obj); /* rng.c */
void md_rng_format(struct md_buf *b, const struct md_rng *rng);
/* implicit.c: the devices every PC has, which libvirt lists */
int md_controller_parse(struct md_pctx *c, xmlNode *n, void *obj);
int md_input_parse(struct md_pctx *c, xmlNode *n, void *obj);
int md_memballoon_parse(struct md_pctx *c, xmlNode *n, void *obj);
void md_controllers_format(struct md_buf *b, const struct md_domain_def *def);
void md_implicit_tail_format(struct md_buf *b); /* inputs and memballoon */
int md_implicit_check(struct md_pctx *c);
/* address.c */
int md_address_parse(struct md_pctx *c, xmlNode *n, struct md_pci_addr *addr);
void md_address_format(struct md_buf *b, const struct md_pci_addr *addr);
/* Named slots unique, then a slot for every device without one. */
int md_addresses_assign(struct md_pctx *c);

/* ids.c */
int md_random_bytes(struct md_pctx *c, void *buf, size_t len);
bool md_mac_parse(const char *s, uint8_t mac[6]);

/* validate.c: the checks across objects, after every object is read */
int md_validate(struct md_pctx *c);

#endif
