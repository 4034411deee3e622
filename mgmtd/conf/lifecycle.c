/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * <on_poweroff>, <on_reboot>, <on_crash>: the values libvirt allows that
 * the stack can carry out. kvmemu exits on power-off, so preserving a
 * powered-off guest is impossible; a reboot either resets in place
 * (--on-reboot reset) or ends kvmemu (destroy); a crash stops the guest
 * (preserve: --on-panic pause) or ends kvmemu, the daemon restarting it
 * for 'restart'. Core dumps and renames are not done.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const action_names[] = {
    [MD_ACTION_DESTROY] = "destroy",
    [MD_ACTION_RESTART] = "restart",
    [MD_ACTION_PRESERVE] = "preserve",
};

int md_lifecycle_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    const char *event = (const char *)n->name;
    bool crash = !strcmp(event, "on_crash");
    enum md_action *slot = crash                         ? &def->on_crash
                           : !strcmp(event, "on_reboot") ? &def->on_reboot
                                                         : &def->on_poweroff;
    char *text = NULL;
    int ret = md_attrs_only(c, n, MD_NO_ATTRS);
    int found = -1;

    if (!ret)
        ret = md_text(c, n, true, &text);
    if (ret)
        return ret;
    for (int i = 0; i < (int)(sizeof(action_names) / sizeof(action_names[0])); i++)
        if (!strcmp(text, action_names[i]))
            found = i;
    if (found == MD_ACTION_PRESERVE && !crash)
        ret = md_fail(c, n,
                      "'preserve' is not supported here: kvmemu ends with the guest; use "
                      "destroy or restart");
    else if (found < 0 && !strncmp(text, "coredump-", 9))
        ret = md_fail(c, n, "'%s': guest core dumps are not supported", text);
    else if (found < 0 && crash)
        ret = md_fail(c, n, "'%s' is not supported; use destroy, restart or preserve", text);
    else if (found < 0)
        ret = md_fail(c, n, "'%s' is not supported; use destroy or restart", text);
    else
        *slot = (enum md_action)found;
    free(text);
    return ret;
}

void md_lifecycle_format(struct md_buf *b, const struct md_domain_def *def)
{
    md_buf_text_elem(b, "on_poweroff", action_names[def->on_poweroff]);
    md_buf_text_elem(b, "on_reboot", action_names[def->on_reboot]);
    md_buf_text_elem(b, "on_crash", action_names[def->on_crash]);
}
