/*
 * cmd_check.c -- the `check` command (SPEC §10): evaluates the alert rules
 * on the month so far, prints what fires (table or itsm-bridge.check/1
 * JSON), and sends each newly firing alert, each alert still firing after
 * `repeat`, and each alert that stopped firing once to its webhooks,
 * keeping per (rule, webhook) state in the store so that a failed delivery
 * is retried at the next check. The state is read, the messages sent and
 * the state written under the store's notification lock
 * (ib_store_lock_notify), so that two checks that overlap (cron, a slow
 * webhook) never send the same message twice: the one that finds the lock
 * taken only prints. Must not evaluate rules itself (alerts.c), build
 * message bodies or talk HTTP (notify.c), nor know SQL.
 *
 * Exit: 0 nothing fires, 3 something fires, 1 a runtime failure (store,
 * or a webhook delivery that failed -- the alerts are still printed and
 * the message stays pending), 2 usage or configuration. A check that only
 * prints because another one is sending exits as if it had sent (0 or 3):
 * it did not fail, the other one delivers.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "cli.h"
#include "kpi.h"
#include "notify.h"
#include "tz.h"

enum { IB_EXIT_FIRING = 3 };

static const char check_usage[] =
    "usage: itsm-bridge check [--as-of ISO] [--format table|json] "
    "[--no-notify]\n"
    "Evaluates the alert rules (alerts.rules) on the month so far in the\n"
    "configuration's timezone, prints what fires, and notifies the rules'\n"
    "webhooks: a newly firing alert once, again after alerts.repeat while it\n"
    "still fires, and once more when it stops (\"resolved\"). A webhook that\n"
    "fails gets the message at the next check. While another check is\n"
    "sending, this one only prints (and says so on stderr, unless -q).\n"
    "  --as-of ISO     evaluate as if now were ISO (default: now)\n"
    "  --format FMT    table (default) or json (itsm-bridge.check/1)\n"
    "  --no-notify     print only: send nothing and leave the notification\n"
    "                  state untouched (works on a read-only store)\n"
    "Rule types: ticket_at_risk (sla, within), compliance_below (sla, kpi,\n"
    "below_pct), availability_budget (service, consumed_pct), source_stale\n"
    "(after, sources).\n"
    "Exit status: 0 nothing fires, 3 something fires, 1 runtime failure\n"
    "(store, or a webhook not reached), 2 usage or configuration error.\n";

typedef struct check_opts {
  const char *as_of, *format;
  int no_notify, help;
} check_opts;

static int parse_opts(int argc, char **argv, check_opts *o) {
  static const char *const names[] = {"--as-of", "--format"};
  for (int i = 1; i < argc; i++) {
    const char **slots[] = {&o->as_of, &o->format};
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      o->help = 1;
      continue;
    }
    if (strcmp(argv[i], "--no-notify") == 0) {
      o->no_notify = 1;
      continue;
    }
    int matched = ib_cli_take_option("check", argc, argv, &i, names, slots, 2);
    if (matched < 0) return -1;
    if (!matched) {
      fprintf(stderr,
              "check: unknown option '%s' (see itsm-bridge check --help)\n",
              argv[i]);
      return -1;
    }
  }
  return 0;
}

static ib_alert_state *find_state(ib_alert_state_list *l, const char *rule,
                                  const char *webhook) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->items[i].rule, rule) == 0 &&
        strcmp(l->items[i].webhook, webhook) == 0)
      return &l->items[i];
  return NULL;
}

/* Since when rule a fires: the earliest firing state of its webhooks,
 * else as_of (first seen now, or a rule without webhooks). */
static ib_time since_of(const ib_alert *a, const ib_alert_state_list *states,
                        ib_time as_of) {
  ib_time since = IB_TIME_NONE;
  for (size_t i = 0; i < states->n; i++) {
    const ib_alert_state *s = &states->items[i];
    if (strcmp(s->rule, a->rule->name) == 0 && s->firing &&
        s->since != IB_TIME_NONE && (since == IB_TIME_NONE || s->since < since))
      since = s->since;
  }
  return since != IB_TIME_NONE ? since : as_of;
}

/* Decides, sends and records the message owed by rule a to webhook w.
 * Returns 0 (sent, or nothing owed), 1 (a delivery failed: kept pending,
 * message printed), -1 (the store failed: message printed). */
static int notify_one(ib_store *st, const ib_config *cfg, const ib_alert *a,
                      const ib_webhook_cfg *w, ib_alert_state_list *states,
                      ib_time as_of, int verbose) {
  char err[1024];
  ib_alert_state *old = find_state(states, a->rule->name, w->name);
  ib_alert_state s = {.rule = a->rule->name,
                      .webhook = w->name,
                      .since = IB_TIME_NONE,
                      .last_sent = IB_TIME_NONE};
  if (old) {
    s.firing = old->firing;
    s.since = old->since;
    s.last_sent = old->last_sent;
    s.pending = old->pending;
  }
  int due = 0, rc = 0;
  if (a->firing) {
    if (!old || !old->firing) { /* newly firing (or again) */
      s.firing = 1;
      s.since = as_of;
      due = 1;
    } else {
      due = s.pending || s.last_sent == IB_TIME_NONE ||
            as_of - s.last_sent >= cfg->alerts.repeat_s;
    }
  } else if (old && old->firing) { /* stopped firing: resolved, once */
    /* ... unless its firing message never got through: nothing was
     * announced, so there is nothing to resolve. */
    int announced = !old->pending || (old->last_sent != IB_TIME_NONE &&
                                      old->last_sent >= old->since);
    s.firing = 0;
    s.since = IB_TIME_NONE;
    s.pending = 0;
    due = announced;
    if (!due) goto record;
  } else {
    due = old && old->pending; /* a resolved message not delivered yet */
  }
  if (!due) return 0;
  ib_notice n = {a->rule, s.firing, s.since, a->summary,
                 s.firing ? a->details : NULL};
  char *body = ib_notify_payload(w->format, &n); /* owned here */
  if (body == NULL) {
    snprintf(err, sizeof err, "webhook '%s': out of memory", w->name);
    rc = 1;
  } else if (ib_notify_send(w, body, verbose, err, sizeof err) != 0) {
    rc = 1;
  }
  free(body);
  if (rc == 0) {
    s.pending = 0;
    s.last_sent = as_of;
  } else {
    fprintf(stderr, "check: rule '%s': %s\n", a->rule->name, err);
    s.pending = 1;
  }
record:
  if (ib_store_put_alert_state(st, &s, err, sizeof err) != 0) {
    fprintf(stderr, "check: %s\n", err);
    return -1;
  }
  if (old) { /* keep the in-memory list in step (since_of reads it) */
    old->firing = s.firing;
    old->since = s.since;
    old->last_sent = s.last_sent;
    old->pending = s.pending;
  } else if (ib_alert_state_list_add(states, &s) != 0) {
    fprintf(stderr, "check: out of memory\n");
    return -1;
  }
  return rc;
}

static int write_json(FILE *out, const ib_alert_set *set,
                      const ib_alert_state_list *states, ib_time as_of) {
  cJSON *o = cJSON_CreateObject();
  if (o == NULL) return -1;
  char iso[IB_ISO_LEN];
  ib_format_iso8601(as_of, iso);
  cJSON_AddStringToObject(o, "schema", "itsm-bridge.check/1");
  cJSON_AddStringToObject(o, "as_of", iso);
  cJSON *alerts = cJSON_AddArrayToObject(o, "alerts");
  for (size_t i = 0; alerts && i < set->n; i++) {
    const ib_alert *a = &set->items[i];
    if (!a->firing) continue;
    cJSON *e = cJSON_CreateObject();
    if (e == NULL) break;
    cJSON_AddItemToArray(alerts, e);
    cJSON_AddStringToObject(e, "rule", a->rule->name);
    cJSON_AddStringToObject(e, "type", ib_alert_type_name(a->rule->type));
    ib_format_iso8601(since_of(a, states, as_of), iso);
    cJSON_AddStringToObject(e, "since", iso);
    cJSON_AddStringToObject(e, "summary", a->summary);
    cJSON_AddItemToObject(e, "details", cJSON_Duplicate(a->details, 1));
  }
  char *text = cJSON_Print(o);
  cJSON_Delete(o);
  if (text == NULL) return -1;
  int rc = fprintf(out, "%s\n", text) < 0 ? -1 : 0;
  free(text);
  return rc;
}

static int write_table(FILE *out, const ib_alert_set *set,
                       const ib_alert_state_list *states, ib_time as_of,
                       const char *month, const char *zone) {
  char iso[IB_ISO_LEN];
  ib_format_iso8601(as_of, iso);
  size_t firing = 0;
  for (size_t i = 0; i < set->n; i++) firing += set->items[i].firing;
  fprintf(out, "Alerts as of %s (month %s, %s): %zu of %zu rule%s fire%s\n",
          iso, month, zone, firing, set->n, set->n == 1 ? "" : "s",
          firing == 1 ? "s" : "");
  if (set->n == 0)
    fprintf(out,
            "No alert rules: add alerts = { webhooks = ( ... ); rules = ( ... "
            "); }; to the configuration (itsm-bridge check --help)\n");
  for (size_t i = 0; i < set->n; i++) {
    const ib_alert *a = &set->items[i];
    if (!a->firing) continue;
    ib_format_iso8601(since_of(a, states, as_of), iso);
    fprintf(out, "\nFIRING %s (%s), since %s\n  ", a->rule->name,
            ib_alert_type_name(a->rule->type), iso);
    /* summaries and details carry ticket keys and ids from the source */
    ib_cli_put_cell(out, a->summary);
    fputc('\n', out);
    const cJSON *d;
    cJSON_ArrayForEach(d, a->details) {
      char line[512];
      ib_alert_detail_line(a->rule->type, d, line, sizeof line);
      fputs("    - ", out);
      ib_cli_put_cell(out, line);
      fputc('\n', out);
    }
  }
  const char *sep = "\nquiet: ";
  for (size_t i = 0; i < set->n; i++)
    if (!set->items[i].firing) {
      fprintf(out, "%s%s", sep, set->items[i].rule->name);
      sep = ", ";
    }
  if (firing < set->n) fputc('\n', out);
  return ferror(out) ? -1 : 0;
}

int ib_cmd_check(const ib_cli *cli, int argc, char **argv) {
  check_opts o;
  memset(&o, 0, sizeof o);
  ib_config *cfg = NULL;            /* owned here */
  ib_store *st = NULL;              /* owned here */
  ib_ticket_set tickets = {0};      /* owned here */
  ib_outage_set outages = {0};      /* owned here */
  ib_time *last_success = NULL;     /* owned here */
  ib_alert_state_list states = {0}; /* owned here */
  ib_alert_set set = {0};           /* owned here */
  ib_cli_closed_months closed;      /* owned here */
  memset(&closed, 0, sizeof closed);
  char err[1024] = "", month[2 * IB_ISO_LEN + 2];
  int rc = IB_EXIT_USAGE, json = 0, notify = 0;

  if (parse_opts(argc, argv, &o) != 0) goto done;
  if (o.help) {
    fputs(check_usage, stdout);
    rc = IB_EXIT_OK;
    goto done;
  }
  if (o.format != NULL && strcmp(o.format, "json") != 0 &&
      strcmp(o.format, "table") != 0) {
    fprintf(stderr, "check: --format must be table or json, not '%s'\n",
            o.format);
    goto done;
  }
  json = o.format != NULL && strcmp(o.format, "json") == 0;
  cfg = ib_cli_load_config(cli);
  if (cfg == NULL) goto done;
  const char *zone = cfg->timezone ? cfg->timezone : "UTC";
  ib_time from, to, as_of;
  ib_cli_period_args pa = {NULL, NULL, NULL, o.as_of};
  if (ib_cli_resolve_period("check", &pa, zone, 1, &from, &to, &as_of, month,
                            sizeof month) != 0)
    goto done;

  rc = IB_EXIT_FAILURE;
  st = o.no_notify ? ib_cli_open_store_to_read(cfg) : ib_cli_open_store(cfg);
  if (st == NULL) goto done;
  /* Before the states are read: what this check reads, another one that
   * is sending may be about to change. */
  if (!o.no_notify) {
    ib_store_lock_status lk = ib_store_lock_notify(st, err, sizeof err);
    if (lk == IB_STORE_LOCK_FAILED) {
      fprintf(stderr, "check: %s\n", err);
      goto done;
    }
    notify = lk == IB_STORE_LOCK_TAKEN;
    /* Not an error (-q: errors only): the other check delivers. */
    if (!notify && !cli->quiet)
      fprintf(stderr, "check: %s: this one only prints\n", err);
  }
  ib_kpi_query q = {.from = from, .to = to, .as_of = as_of};
  last_success = ib_cli_last_successes("check", cfg, st);
  if (last_success == NULL) goto done;
  if (ib_store_load_tickets(st, ib_kpi_load_from(&q), to, &tickets, err,
                            sizeof err) ||
      ib_store_load_outages(st, from, to, &outages, err, sizeof err) ||
      ib_store_alert_states(st, &states, err, sizeof err)) {
    fprintf(stderr, "check: %s\n", err);
    goto done;
  }
  int want_closed = 0;
  for (size_t i = 0; i < cfg->alerts.n_rules; i++)
    want_closed |= cfg->alerts.rules[i].type == IB_ALERT_LATE_CHANGES;
  if (want_closed && ib_cli_load_closed_months("check", cfg, st, &closed))
    goto done;
  ib_alert_input in = {cfg, &tickets, &outages,      last_success, from,
                       to,  as_of,    closed.months, closed.n};
  if (ib_alerts_evaluate(&in, &set, err, sizeof err) != 0) {
    fprintf(stderr, "check: %s\n", err);
    goto done;
  }

  int delivery_failed = 0;
  for (size_t i = 0; notify && i < set.n; i++) {
    const ib_alert *a = &set.items[i];
    for (size_t k = 0; k < a->rule->n_notify; k++) {
      int r = notify_one(st, cfg, a, &cfg->alerts.webhooks[a->rule->notify[k]],
                         &states, as_of, cli->verbose);
      if (r < 0) goto done;
      if (r > 0) delivery_failed = 1;
    }
  }

  /* -q (timers, cron): the table is left out, JSON asked for is not. */
  int wrc = json ? write_json(stdout, &set, &states, as_of)
            : cli->quiet
                ? 0
                : write_table(stdout, &set, &states, as_of, month, zone);
  if (wrc != 0 || fflush(stdout) != 0) {
    fprintf(stderr, "check: cannot write the result to standard output\n");
    goto done;
  }
  int firing = 0;
  for (size_t i = 0; i < set.n; i++) firing |= set.items[i].firing;
  rc = delivery_failed ? IB_EXIT_FAILURE : firing ? IB_EXIT_FIRING : IB_EXIT_OK;
done:
  ib_cli_closed_months_free(&closed);
  ib_alert_set_free(&set);
  ib_alert_state_list_free(&states);
  free(last_success);
  ib_ticket_set_free(&tickets);
  ib_outage_set_free(&outages);
  if (o.no_notify)
    ib_cli_close_store(st);
  else
    ib_store_close(st);
  ib_config_free(cfg);
  return rc;
}
