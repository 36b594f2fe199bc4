/*
 * kpi.h -- the KPI engine (SPEC §6): first response, resolution, backlog at
 * risk, availability and credits, recomputed from stored tickets and
 * outages. Pure computation on the model: must not read the store, parse
 * options or print results (kpi_format.h does that).
 *
 * Null figures are NAN in doubles (test with isnan) so that an empty cohort
 * never reads as a zero.
 */
#ifndef IB_KPI_H
#define IB_KPI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "model.h"

/* Where a ticket stands for one KPI. */
typedef enum ib_kpi_verdict {
  IB_KPI_NONE = 0, /* not in that cohort (or no target for that KPI) */
  IB_KPI_MET,
  IB_KPI_BREACHED,
  IB_KPI_PENDING /* first response only: unanswered, not yet late */
} ib_kpi_verdict;

const char *ib_kpi_verdict_name(ib_kpi_verdict v); /* "met", ... , "" */

/* Why the provider's verdict differs from ours (SPEC §9 "Disagreements with
 * the provider"): the first alternative reading, in this order, under which
 * our verdict would equal theirs.
 *  PAUSES: resolution measured without subtracting the pauses; first
 *    response measured with them subtracted (we never apply them there).
 *  CALENDAR: plain elapsed seconds (24x7) instead of the SLA's calendar,
 *    pauses still subtracted for resolution (as plain seconds).
 *  PRIORITY_CHANGED: our measured time against the target of a priority
 *    the ticket had earlier (ib_kpi_query.earlier_priorities).
 *  RESPONSE_FROM_RESOLUTION: first response only, when no response was
 *    recorded and the resolution stood in: the ticket read as never
 *    answered, its time running to `end` (breached when that exceeds the
 *    target; still within it is pending, which matches no verdict).
 *  UNEXPLAINED: none of these. */
typedef enum ib_kpi_reason {
  IB_KPI_REASON_NONE = 0, /* no disagreement */
  IB_KPI_REASON_PAUSES,
  IB_KPI_REASON_CALENDAR,
  IB_KPI_REASON_PRIORITY_CHANGED,
  IB_KPI_REASON_RESPONSE_FROM_RESOLUTION,
  IB_KPI_REASON_UNEXPLAINED
} ib_kpi_reason;

/* "pauses", "calendar", "priority_changed", "response_from_resolution",
 * "unexplained"; "" for NONE. */
const char *ib_kpi_reason_name(ib_kpi_reason r);

/* One KPI of one ticket under one SLA. */
typedef struct ib_kpi_measure {
  ib_kpi_verdict verdict;
  int64_t target_s;     /* IB_DURATION_NONE when the priority has none */
  int64_t measured_s;   /* open seconds (pause-adjusted for resolution);
                           for a pending or unanswered first response the
                           time so far, up to `end`; -1 when not measured */
  int64_t over_s;       /* measured - target when breached, else 0 */
  ib_verdict reported;  /* the source's own verdict, UNKNOWN when none */
  int disagrees;        /* met/breached and reported differs */
  ib_kpi_reason reason; /* when disagrees: the first reading that explains
                           it (see ib_kpi_reason), else NONE */
  int impossible; /* the span ends before it starts (response or resolution
                     before the creation): measured as 0 s and warned */
} ib_kpi_measure;

/* Per-ticket result: one row per (SLA, in-scope ticket) that is in a
 * cohort or still open at `end` (created before `end`, unresolved then). */
typedef struct ib_kpi_ticket {
  const ib_ticket_row *ticket;   /* borrowed from the ticket set */
  size_t sla;                    /* index into ib_kpi_result.slas */
  int priority;                  /* 1..5 */
  ib_kpi_measure first_response; /* cohort: created in [from, to) */
  ib_kpi_measure resolution;     /* cohort: resolved in [from, to) */
  int open_breached; /* unresolved at end, paused-adjusted time > target */
  int64_t open_s;    /* when unresolved at end with a resolution target:
                        its paused-adjusted open time at end; else -1 */
} ib_kpi_ticket;

/* Statistics of one cohort (SPEC §6/§7). mean/median/p90 are over the met
 * and breached tickets; a first response breached while still unanswered
 * counts with its time so far (open(created, end)); pending ones are left
 * out. Totals pool every priority's durations (not an average of means). */
typedef struct ib_kpi_stats {
  int64_t target_s; /* IB_DURATION_NONE: no target (and empty cohort) */
  int64_t tickets;  /* met + breached (+ pending for first response) */
  int64_t met, breached, pending, open_breached;
  int64_t reported_disagreements;
  double compliance_pct; /* NAN when met + breached = 0 */
  double mean_s;         /* mttr_s for resolution; NAN when n = 0 */
  double median_s;       /* mean of the two middle values when n even */
  double p90_s;          /* nearest rank ceil(0.9 n) */
} ib_kpi_stats;

typedef struct ib_kpi_priority {
  int priority; /* 1..5 */
  ib_kpi_stats first_response;
  ib_kpi_stats resolution;
} ib_kpi_priority;

typedef struct ib_kpi_sla {
  const ib_sla_cfg *cfg; /* borrowed from the configuration */
  const char *calendar;  /* its calendar's name, borrowed */
  ib_kpi_priority by_priority[IB_PRIORITY_MAX]; /* priorities with a target */
  size_t n_priorities;
  ib_kpi_stats total_first_response; /* pooled over priorities */
  ib_kpi_stats total_resolution;
  int has_penalty;
  double credit_pct; /* min(cap, per-breach sums), when has_penalty */
  double credit;     /* monthly_fee * credit_pct / 100 */
} ib_kpi_sla;

typedef struct ib_kpi_availability {
  const ib_availability_cfg *cfg; /* borrowed */
  const char *calendar;           /* borrowed */
  int64_t service_time_s;         /* open(c, from, end): the period so far */
  int64_t period_time_s;          /* open(c, from, to): the whole period */
  int64_t downtime_s;             /* open time of the union, clipped */
  int64_t outages;                /* counted intervals overlapping */
  double availability_pct;        /* NAN when service_time_s = 0 (as_of
                                     before from, or a closed calendar) */
  int breached;
  double credit; /* NAN when the entry has no credit rule; 0 when not
                    breached (so also when availability_pct is NAN) */
} ib_kpi_availability;

/* Error budget of an availability objective (Sloth's conventions, as
 * ratios): the period's allowed downtime is (1 - target) of its whole open
 * time. Consumed: downtime so far over that allowance (above 1 when
 * exhausted). Burn rate: consumed over the share of the period elapsed (1
 * spends the budget exactly by the period's end). NAN when undefined (a
 * 100 % target, a closed calendar, nothing elapsed yet). */
double ib_kpi_budget_consumed(const ib_kpi_availability *a);
double ib_kpi_burn_rate(const ib_kpi_availability *a);

typedef struct ib_kpi_result {
  ib_time from, to, as_of, end; /* end = min(to, as_of) */
  ib_kpi_sla *slas;             /* owned; config order (or the one asked) */
  size_t n_slas;
  ib_kpi_availability *availability; /* owned; config order */
  size_t n_availability;
  ib_kpi_ticket *tickets; /* owned; grouped by SLA, ticket-set order;
                             NULL with ib_kpi_query.summary_only */
  size_t n_tickets;
  /* Tickets with impossible times (a response or resolution before the
   * creation, a pause ending before it starts) that a figure of this
   * result measured; each got one warning line. */
  size_t n_impossible;
} ib_kpi_result;

typedef struct ib_kpi_query {
  ib_time from, to; /* period [from, to) */
  ib_time as_of;    /* IB_TIME_NONE: now */
  const char *sla;  /* only this SLA; NULL = all */
  FILE *warnings;   /* one line per ticket with impossible times (a span
                       ending before it starts); NULL = silent */
  /* The priorities ticket `t` had before its current one (from the
   * store's history of changes): writes at most `max` values 1..5 into
   * `out` and returns how many. Only asked for tickets that disagree with
   * the provider. NULL: no history known, so PRIORITY_CHANGED is never
   * the reason. `earlier_ctx` is passed through, borrowed. */
  size_t (*earlier_priorities)(void *ctx, const ib_ticket_row *t, int *out,
                               size_t max);
  void *earlier_ctx;
  /* 1: keep no per-ticket results (ib_kpi_result.tickets stays NULL,
   * n_tickets 0): every figure is the same, memory is the period's ticket
   * set only. For a plain summary; --breaches, --disagreements, exports
   * and the report need the rows (0, the default). */
  int summary_only;
} ib_kpi_query;

/* The lower bound to load tickets from (ib_store_load_tickets(st, this,
 * q->to, ...)): q->from, or as_of when it is earlier, because the backlog
 * at an as_of before the period counts tickets resolved between as_of and
 * from. as_of IB_TIME_NONE is now. */
ib_time ib_kpi_load_from(const ib_kpi_query *q);

/* Computes every KPI. `tickets` and `outages` are what the store loaded
 * for the period; the result borrows them and `cfg`, which must outlive it.
 * Returns 0, or -1 with one line in err (unknown SLA name, bad calendar
 * zone, ENOMEM). *out is owned by the caller: ib_kpi_result_free. */
int ib_kpi_compute(const ib_config *cfg, const ib_ticket_set *tickets,
                   const ib_outage_set *outages, const ib_kpi_query *q,
                   ib_kpi_result **out, char *err, size_t errlen);
void ib_kpi_result_free(ib_kpi_result *res);

#endif /* IB_KPI_H */
