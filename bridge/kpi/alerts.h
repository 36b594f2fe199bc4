/*
 * alerts.h -- evaluates the alert rules of the configuration (SPEC §10)
 * on the month so far: tickets at risk of breaching, compliance below a
 * floor, an error budget used up, sources not synced lately. Pure
 * computation on what the caller loaded (tickets, outages, each source's
 * last successful sync): must not read the store, talk HTTP or print;
 * cmd_check.c does that, and notify.c sends.
 *
 * Decisions (documented in the README's Alerts section):
 *  - ticket_at_risk looks at every in-scope ticket of the SLA open at as_of
 *    (created at or before it, not resolved or closed by then), whatever
 *    month it was created in. First response: unanswered at as_of, its
 *    business time so far not above the target, and at most `within` left.
 *    Resolution: the same with the pauses subtracted; a ticket whose pause
 *    is running at as_of has a frozen clock -- it cannot breach while
 *    paused -- and is not listed (it is again once the pause ends).
 *    due_at is the instant the target is reached in the SLA's calendar
 *    (ib_calendar_after), so always an instant for a listed ticket.
 *  - compliance_below fires when the month-so-far compliance (ib_kpi_compute
 *    at as_of) is strictly below below_pct; a null compliance (no ticket
 *    judged yet) never fires.
 *  - availability_budget fires when ib_kpi_budget_consumed x 100 is at or
 *    above consumed_pct; undefined (100 % target, closed calendar) never.
 *  - source_stale fires for a source whose last successful sync is older
 *    than `after` at as_of, or that never synced successfully.
 *  - late_changes fires when a closed month (one with an edition) has late
 *    changes (store.h) detected after its latest edition was closed: the
 *    figures the committee signed may no longer hold (itsm-bridge verify
 *    says which). One detail per change.
 */
#ifndef IB_ALERTS_H
#define IB_ALERTS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "config.h"
#include "model.h"
#include "store.h"

/* One rule's outcome. */
typedef struct ib_alert {
  const ib_alert_rule_cfg *rule; /* borrowed from the configuration */
  int firing;
  char *summary;  /* owned; one sentence a person reads; "" when quiet */
  cJSON *details; /* owned; a JSON array (empty when quiet): per ticket,
                     per source, or one object for an SLA or a service */
} ib_alert;

typedef struct ib_alert_set {
  ib_alert *items; /* owned; one per rule, in configuration order */
  size_t n;
} ib_alert_set;

/* A closed month (SPEC §9) and the late changes recorded since its latest
 * edition was closed (for late_changes rules). */
typedef struct ib_alert_closed_month {
  const char *month;                  /* "2026-10" */
  const char *hash;                   /* its latest edition */
  ib_time closed_at;                  /* when that edition was closed */
  const ib_late_change_list *changes; /* detected since, borrowed */
} ib_alert_closed_month;

typedef struct ib_alert_input {
  const ib_config *cfg;                /* borrowed */
  const ib_ticket_set *tickets;        /* as ib_store_load_tickets(from, to) */
  const ib_outage_set *outages;        /* as ib_store_load_outages(from, to) */
  const ib_time *last_success;         /* [cfg->n_sources]: each source's last
                                          successful sync, IB_TIME_NONE = never */
  ib_time from, to;                    /* the month being measured */
  ib_time as_of;                       /* now, or --as-of */
  const ib_alert_closed_month *closed; /* the closed months, oldest first */
  size_t n_closed;
} ib_alert_input;

/* Evaluates every rule of in->cfg->alerts. 0, or -1 with one line in err
 * (ENOMEM, a calendar zone that cannot be read). *out is owned by the
 * caller: ib_alert_set_free. */
int ib_alerts_evaluate(const ib_alert_input *in, ib_alert_set *out, char *err,
                       size_t errlen);
void ib_alert_set_free(ib_alert_set *set);

/* One detail of an alert of type `type` as a line a person reads
 * ("SUP-12 (provider-a) P1 resolution: 25m 00s left, due
 * 2026-10-05T12:00:00Z"). Writes into buf (always terminated). */
void ib_alert_detail_line(ib_alert_type type, const cJSON *detail, char *buf,
                          size_t len);

#endif /* IB_ALERTS_H */
