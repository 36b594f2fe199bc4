/*
 * editions.c -- what `close`, `verify` and `report` share about closed
 * months: computing a month's edition document from the store, finding a
 * month's latest edition, checking the chain, and attaching the recorded
 * field changes to a comparison. Must not print results (only errors).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sha256.h"
#include "tz.h"

const char *ib_cli_engine_name(void) {
  return "itsm-bridge " IB_VERSION;
}

/* Loads the period's rows and builds its edition document. Owned by the
 * caller (cJSON_Delete); NULL with the error printed. */
cJSON *ib_cli_compute_edition(const char *cmd, const ib_config *cfg,
                              ib_store *st, ib_time from, ib_time to,
                              ib_time as_of, const ib_edition_meta *meta) {
  ib_ticket_set tickets = {0}; /* owned here */
  ib_outage_set outages = {0}; /* owned here */
  ib_kpi_result *res = NULL;   /* owned here */
  cJSON *doc = NULL;
  char err[512];
  ib_kpi_query q = {.from = from, .to = to, .as_of = as_of, .warnings = stderr};
  if (ib_store_load_tickets(st, ib_kpi_load_from(&q), to, &tickets, err,
                            sizeof err) ||
      ib_store_load_outages(st, from, to, &outages, err, sizeof err) ||
      ib_kpi_compute(cfg, &tickets, &outages, &q, &res, err, sizeof err)) {
    fprintf(stderr, "%s: %s\n", cmd, err);
    goto done;
  }
  doc = ib_edition_build(cfg, res, &tickets, &outages, meta, err, sizeof err);
  if (doc == NULL) fprintf(stderr, "%s: %s\n", cmd, err);
done:
  ib_kpi_result_free(res);
  ib_ticket_set_free(&tickets);
  ib_outage_set_free(&outages);
  return doc;
}

/* The latest edition of `month`, or NULL. */
const ib_edition_rec *ib_cli_latest_edition(const ib_edition_list *l,
                                            const char *month) {
  const ib_edition_rec *e = NULL;
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->items[i].month, month) == 0) e = &l->items[i];
  return e;
}

/* Checks every edition of the chain: its content still hashes to its
 * hash, it names the previous edition, and what it says of itself
 * matches its row. Problems are appended to `problems` (one line each).
 * 1 when intact. */
/* Appends "edition SEQ (MONTH, HASH12) <what>" to problems; the chain is
 * then broken (*ok = 0) even if the line cannot be kept. */
static void chain_problem(ib_string_list *problems, int *ok,
                          const ib_edition_rec *e, const char *what) {
  char line[512];
  *ok = 0;
  snprintf(line, sizeof line, "edition %lld (%s, %.12s) %s", (long long)e->seq,
           e->month, e->hash, what);
  ib_string_list_add(problems, line);
}

int ib_cli_check_chain(const ib_edition_list *l, ib_string_list *problems) {
  int ok = 1;
  const char *prev = NULL;
  for (size_t i = 0; i < l->n; i++) {
    const ib_edition_rec *e = &l->items[i];
    char hex[IB_SHA256_HEX_LEN], what[128];
    ib_sha256_hex(e->body, strlen(e->body), hex);
    if (strcmp(hex, e->hash) != 0) {
      snprintf(what, sizeof what, "was altered: its content hashes to %.12s",
               hex);
      chain_problem(problems, &ok, e, what);
    }
    if ((prev == NULL) != (e->prev_hash == NULL) ||
        (prev && strcmp(prev, e->prev_hash) != 0))
      chain_problem(problems, &ok, e,
                    "does not follow the edition before it: the chain is "
                    "broken");
    cJSON *body = cJSON_Parse(e->body);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "month");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "prev_hash");
    int self_ok =
        body && cJSON_IsString(m) && !strcmp(m->valuestring, e->month) &&
        (e->prev_hash
             ? cJSON_IsString(p) && !strcmp(p->valuestring, e->prev_hash)
             : cJSON_IsNull(p));
    if (!self_ok)
      chain_problem(problems, &ok, e,
                    "does not say what its row says (month or previous hash "
                    "differ)");
    cJSON_Delete(body);
    prev = e->hash;
  }
  return ok;
}

/* Fills each changed ticket's "changes" with the field changes recorded
 * for it since the edition was closed. 0, or -1 with the error printed. */
int ib_cli_add_recorded_changes(const char *cmd, ib_store *st, cJSON *verify,
                                ib_time since) {
  cJSON *t;
  cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(verify, "tickets")) {
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(t, "source");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");
    cJSON *changes = cJSON_GetObjectItemCaseSensitive(t, "changes");
    if (!cJSON_IsString(src) || !cJSON_IsString(id)) continue;
    ib_change_list l = {0}; /* owned here */
    int found = 0;
    char err[512];
    if (ib_store_history(st, src->valuestring, id->valuestring, &l, &found, err,
                         sizeof err)) {
      fprintf(stderr, "%s: %s\n", cmd, err);
      ib_change_list_free(&l);
      return -1;
    }
    for (size_t i = 0; i < l.n; i++) {
      const ib_change *c = &l.items[i];
      if (c->detected_at < since || strcmp(c->kind, "ticket") != 0) continue;
      char at[IB_ISO_LEN];
      ib_format_iso8601(c->detected_at, at);
      cJSON *o = cJSON_CreateObject();
      if (o == NULL || !cJSON_AddItemToArray(changes, o) ||
          !cJSON_AddStringToObject(o, "field", c->field) ||
          !(c->old_value ? cJSON_AddStringToObject(o, "old", c->old_value)
                         : cJSON_AddNullToObject(o, "old")) ||
          !(c->new_value ? cJSON_AddStringToObject(o, "new", c->new_value)
                         : cJSON_AddNullToObject(o, "new")) ||
          !cJSON_AddStringToObject(o, "detected_at", at) ||
          !cJSON_AddNumberToObject(o, "run", (double)c->run_id)) {
        fprintf(stderr, "%s: out of memory\n", cmd);
        ib_change_list_free(&l);
        return -1;
      }
    }
    ib_change_list_free(&l);
  }
  return 0;
}

int ib_cli_verify_month(const char *cmd, const ib_config *cfg, ib_store *st,
                        const char *month, ib_cli_verified *v) {
  char err[512];
  ib_time from, to;
  memset(v, 0, sizeof *v);
  if (ib_cli_parse_month(month, cfg->timezone ? cfg->timezone : "UTC", &from,
                         &to) != 0) {
    fprintf(stderr, "%s: '%s' is not a month YYYY-MM\n", cmd, month);
    return -1;
  }
  if (ib_store_editions(st, &v->editions, err, sizeof err)) {
    fprintf(stderr, "%s: %s\n", cmd, err);
    return -1;
  }
  v->edition = ib_cli_latest_edition(&v->editions, month);
  if (v->edition == NULL) return 0;
  const ib_edition_rec *e = v->edition;
  v->chain_ok = ib_cli_check_chain(&v->editions, &v->problems);
  v->frozen = cJSON_Parse(e->body);
  if (v->frozen == NULL) {
    fprintf(stderr,
            "%s: edition %.12s of %s is not readable JSON any more: it was "
            "altered\n",
            cmd, e->hash, month);
    return -1;
  }
  ib_edition_meta meta = {month,       e->closed_at, e->prev_hash,
                          e->replaces, e->reason,    ib_cli_engine_name()};
  v->now = ib_cli_compute_edition(cmd, cfg, st, from, to, e->as_of, &meta);
  if (v->now == NULL) return -1;
  v->verify = ib_edition_compare(v->frozen, v->now, e->hash, v->chain_ok, err,
                                 sizeof err);
  if (v->verify == NULL) {
    fprintf(stderr, "%s: %s\n", cmd, err);
    return -1;
  }
  if (ib_cli_add_recorded_changes(cmd, st, v->verify, e->closed_at)) return -1;
  return 1;
}

void ib_cli_verified_free(ib_cli_verified *v) {
  cJSON_Delete(v->verify);
  cJSON_Delete(v->now);
  cJSON_Delete(v->frozen);
  ib_string_list_free(&v->problems);
  ib_edition_list_free(&v->editions);
  memset(v, 0, sizeof *v);
}

int ib_cli_load_closed_months(const char *cmd, const ib_config *cfg,
                              ib_store *st, ib_cli_closed_months *out) {
  char err[512];
  memset(out, 0, sizeof *out);
  if (ib_store_editions(st, &out->editions, err, sizeof err)) goto fail;
  size_t n = out->editions.n;
  out->months = calloc(n + 1, sizeof *out->months);
  out->changes = calloc(n + 1, sizeof *out->changes);
  if (out->months == NULL || out->changes == NULL) {
    snprintf(err, sizeof err, "out of memory");
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    const ib_edition_rec *e = &out->editions.items[i];
    if (ib_cli_latest_edition(&out->editions, e->month) != e) continue;
    ib_time from, to;
    if (ib_cli_parse_month(e->month, cfg->timezone ? cfg->timezone : "UTC",
                           &from, &to) != 0) {
      snprintf(err, sizeof err, "edition %.12s names no month ('%s')", e->hash,
               e->month);
      goto fail;
    }
    ib_late_change_list *l = &out->changes[out->n];
    if (ib_store_late_changes(st, from, to, l, err, sizeof err)) goto fail;
    out->months[out->n++] =
        (ib_alert_closed_month){e->month, e->hash, e->closed_at, l};
  }
  return 0;
fail:
  fprintf(stderr, "%s: %s\n", cmd, err);
  return -1;
}

void ib_cli_closed_months_free(ib_cli_closed_months *c) {
  for (size_t i = 0; c->changes != NULL && i < c->n; i++)
    ib_late_change_list_free(&c->changes[i]);
  free(c->changes);
  free(c->months);
  ib_edition_list_free(&c->editions);
  memset(c, 0, sizeof *c);
}
