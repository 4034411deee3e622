/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * <clock>: the machine's CMOS RTC keeps the host's time in UTC, or with
 * offset='localtime' in the host's local time zone (kvmemu --rtc
 * base=localtime, for guests such as Windows that expect it); its i8254
 * PIT is KVM's (which re-injects missed ticks: tickpolicy 'delay'), the
 * RTC catches up on missed interrupts, and there is no HPET. Timers may
 * be listed only as what the machine really does.
 */
#include <string.h>

#include "internal.h"

struct timer_rule {
    const char *name;
    const char *tickpolicy; /* the only value accepted; NULL: none */
    bool must_be_absent;    /* present='no' required */
};

static const struct timer_rule timer_rules[] = {
    { "rtc", "catchup", false },
    { "pit", "delay", false },
    { "hpet", NULL, true },
};

static struct md_timer *timer_slot(struct md_domain_def *def, size_t i)
{
    return i == 0 ? &def->clock.rtc : i == 1 ? &def->clock.pit : &def->clock.hpet;
}

static int timer_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    const char *name = md_attr(n, "name");
    const char *present = md_attr(n, "present");
    const char *tick = md_attr(n, "tickpolicy");
    const struct timer_rule *r = NULL;
    struct md_timer *t;
    size_t i;
    int ret = md_leaf(c, n, MD_ATTRS("name", "present", "tickpolicy"));

    if (ret)
        return ret;
    if (!name)
        return md_fail(c, n, "the attribute 'name' is required");
    for (i = 0; i < sizeof(timer_rules) / sizeof(timer_rules[0]); i++) {
        if (!strcmp(timer_rules[i].name, name)) {
            r = &timer_rules[i];
            break;
        }
    }
    if (!r)
        return md_fail(c, n,
                       "the timer '%s' is not configurable (rtc, pit and hpet can be "
                       "listed as the machine has them)",
                       name);
    t = timer_slot(def, i);
    if (t->listed)
        return md_fail(c, n, "the timer '%s' is listed twice", name);
    t->listed = true;
    t->present = -1;
    if (present) {
        bool yes;

        ret = md_yes_no(c, n, "present", "yes", "no", &yes);
        if (ret)
            return ret;
        t->present = yes;
        if (yes && r->must_be_absent)
            return md_fail_attr(c, n, "present", "there is no HPET; use present='no'");
        if (!yes && !r->must_be_absent)
            return md_fail_attr(c, n, "present",
                                "the machine always has this timer; remove present='no'");
    } else if (r->must_be_absent) {
        return md_fail(c, n, "there is no HPET; use present='no'");
    }
    if (tick) {
        if (!r->tickpolicy)
            return md_fail_attr(c, n, "tickpolicy", "the %s has no tick policy here", name);
        if (strcmp(tick, r->tickpolicy))
            return md_fail_attr(c, n, "tickpolicy",
                                "the %s's missed ticks are handled as tickpolicy='%s', and only "
                                "that is accepted",
                                name, r->tickpolicy);
        t->tickpolicy = true;
    }
    return 0;
}

static const struct md_child clock_children[] = {
    { "timer", timer_parse, true },
    { NULL, NULL, false },
};

int md_clock_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    const char *offset = md_attr(n, "offset");
    int ret;

    if (!offset)
        return md_fail(c, n, "the attribute 'offset' is required: offset='utc'");
    if (!strcmp(offset, "localtime"))
        def->clock.localtime = true;
    else if (strcmp(offset, "utc"))
        return md_fail_attr(c, n, "offset",
                            "the guest's RTC keeps the host's time in UTC or in its local time "
                            "zone; use offset='utc' or offset='localtime'");
    ret = md_attrs_only(c, n, MD_ATTRS("offset"));
    return ret ? ret : md_children(c, n, clock_children, obj);
}

void md_clock_format(struct md_buf *b, const struct md_domain_def *def)
{
    const struct md_timer *timers[] = { &def->clock.rtc, &def->clock.pit, &def->clock.hpet };
    bool any = false;

    for (size_t i = 0; i < 3; i++)
        any |= timers[i]->listed;
    md_buf_open(b, "clock");
    md_buf_attr(b, "offset", def->clock.localtime ? "localtime" : "utc");
    if (!any) {
        md_buf_empty_end(b);
        return;
    }
    md_buf_open_end(b);
    for (size_t i = 0; i < 3; i++) {
        if (!timers[i]->listed)
            continue;
        md_buf_open(b, "timer");
        md_buf_attr(b, "name", timer_rules[i].name);
        if (timers[i]->present >= 0)
            md_buf_attr(b, "present", timers[i]->present ? "yes" : "no");
        if (timers[i]->tickpolicy)
            md_buf_attr(b, "tickpolicy", timer_rules[i].tickpolicy);
        md_buf_empty_end(b);
    }
    md_buf_close(b, "clock");
}
