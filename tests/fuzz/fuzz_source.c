/*
 * fuzz_source.c -- the end-to-end harness of fuzz_source.h: configuration
 * -> source sync (real plugin, real host services, replay transport) ->
 * in-memory SQLite store -> KPI engine -> JSON writer. Must not interpret
 * payloads itself.
 */
#define _GNU_SOURCE
#include "fuzz_source.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "kpi.h"
#include "kpi_format.h"
#include "source.h"
#include "store.h"
#include "transport.h"
#include "tz.h"

int fuzz_memfd(const char *name, const uint8_t *data, size_t size, char *path,
               size_t pathlen) {
  int fd = memfd_create(name, 0);
  if (fd < 0) return -1;
  size_t done = 0;
  while (done < size) {
    ssize_t w = write(fd, data + done, size - done);
    if (w <= 0) {
      close(fd);
      return -1;
    }
    done += (size_t)w;
  }
  snprintf(path, pathlen, "/proc/self/fd/%d", fd);
  return fd;
}

static void broken(const char *what, const char *detail) {
  fprintf(stderr, "fuzz_source: contract broken: %s%s%s\n", what,
          detail ? ": " : "", detail ? detail : "");
  abort();
}

static void check_stats(const ib_kpi_stats *s) {
  if (s->met < 0 || s->breached < 0 || s->pending < 0 || s->open_breached < 0)
    broken("a negative KPI count", NULL);
  if (s->met + s->breached + s->pending > s->tickets)
    broken("met + breached + pending exceeds the cohort", NULL);
  if (!isnan(s->compliance_pct) &&
      (s->compliance_pct < 0.0 || s->compliance_pct > 100.0))
    broken("compliance outside 0..100 %", NULL);
  if (s->met + s->breached == 0 && !isnan(s->compliance_pct))
    broken("an empty cohort has a compliance figure", NULL);
}

/* The KPI period: the 60 days around the latest ticket creation stored,
 * so that the engine always measures what the input produced; the
 * target's default period when nothing plausible (1970..2100) is stored.
 * Short on purpose: a calendar is built over the whole period per run. */
static void kpi_period(ib_store *st, const fuzz_source_case *c,
                       ib_kpi_query *q) {
  ib_ticket_set all = {0};
  char err[512];
  ib_time latest = IB_TIME_NONE;
  if (ib_store_load_tickets(st, IB_TIME_NONE, IB_TIME_NONE, &all, err,
                            sizeof err))
    broken("the store cannot load what it stored", err);
  for (size_t i = 0; i < all.n; i++)
    if (latest == IB_TIME_NONE || all.rows[i].created_at > latest)
      latest = all.rows[i].created_at;
  ib_ticket_set_free(&all);
  if (latest != IB_TIME_NONE && latest >= 0 && latest < 4102444800LL) {
    q->from = latest - 45 * 86400;
    q->to = latest + 15 * 86400;
  } else if (ib_parse_iso8601(c->kpi_from, "UTC", &q->from) ||
             ib_parse_iso8601(c->kpi_to, "UTC", &q->to)) {
    broken("the target's KPI period does not parse", c->kpi_from);
  }
  q->as_of = q->to;
}

static void run_kpi(const ib_config *cfg, ib_store *st,
                    const fuzz_source_case *c) {
  static FILE *sink; /* /dev/null, kept for the process */
  ib_ticket_set tickets = {0};
  ib_outage_set outages = {0};
  ib_kpi_result *res = NULL;
  char err[512];
  ib_kpi_query q = {.as_of = IB_TIME_NONE};
  kpi_period(st, c, &q);
  if (ib_store_load_tickets(st, q.from, q.to, &tickets, err, sizeof err) ||
      ib_store_load_outages(st, q.from, q.to, &outages, err, sizeof err))
    broken("the store cannot load what it stored", err);
  if (ib_kpi_compute(cfg, &tickets, &outages, &q, &res, err, sizeof err))
    broken("the KPI engine refused stored data", err);
  for (size_t i = 0; i < res->n_slas; i++) {
    const ib_kpi_sla *s = &res->slas[i];
    for (size_t p = 0; p < s->n_priorities; p++) {
      check_stats(&s->by_priority[p].first_response);
      check_stats(&s->by_priority[p].resolution);
    }
    check_stats(&s->total_first_response);
    check_stats(&s->total_resolution);
  }
  for (size_t i = 0; i < res->n_availability; i++) {
    const ib_kpi_availability *a = &res->availability[i];
    if (a->downtime_s < 0 || a->downtime_s > a->service_time_s)
      broken("downtime outside 0..service time", a->cfg->service);
  }
  if (sink == NULL) sink = fopen("/dev/null", "w");
  if (sink != NULL && ib_kpi_write_json(sink, res, 1) != 0)
    broken("the JSON writer failed", NULL);
  ib_kpi_result_free(res);
  ib_ticket_set_free(&tickets);
  ib_outage_set_free(&outages);
}

void fuzz_source_run(const fuzz_source_case *c) {
  static int configured;
  if (!configured) {
    /* No per-connection lookaside arena: it is one 120 KB allocation per
     * store, which ASan maps and unmaps on every input. Must precede the
     * first use of SQLite; it changes no behaviour of the store. */
    sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);
    configured = 1;
  }
  char path[64], err[1024] = "";
  ib_config *cfg = NULL;
  ib_store *st = NULL;
  const ib_plugin *plugin = ib_plugin_entry();
  int fd = fuzz_memfd("fuzz-cfg", (const uint8_t *)c->config_text,
                      strlen(c->config_text), path, sizeof path);
  if (fd < 0) return;
  cfg = ib_config_load(path, err, sizeof err);
  if (cfg == NULL) broken("the target's configuration is invalid", err);
  if (cfg->store.path == NULL || strcmp(cfg->store.path, ":memory:") != 0)
    broken("the target's store is not :memory:", NULL);
  st = ib_store_open(&cfg->store, err, sizeof err);
  if (st == NULL) broken("cannot open the in-memory store", err);
  for (size_t i = 0; i < cfg->n_sources; i++) {
    const ib_source_cfg *sc = &cfg->sources[i];
    if (ib_source_validate(cfg, sc, plugin, err, sizeof err))
      broken("the target's source does not validate", err);
    ib_replay *rp = ib_replay_new(c->rules, c->n_rules, c->max_requests);
    if (rp == NULL) break;
    ib_transport t = {ib_replay_perform, rp};
    ib_sync_options opt = {.since = IB_TIME_NONE, .quiet = 1};
    ib_sync_result res;
    int rc = ib_source_sync_with_transport(cfg, sc, plugin, st, &opt,
                                           c->rules ? &t : NULL, &res);
    if ((rc == 0) != (res.status == IB_OK))
      broken("the return code and the status disagree", sc->name);
    if (rc != 0 && res.error[0] == '\0')
      broken("a failed sync without an error text", sc->name);
    if (strchr(res.error, '\n') != NULL)
      broken("an error text of more than one line", res.error);
    if (res.stored < 0 || res.rejected < 0 ||
        res.stored + res.rejected > res.read)
      broken("inconsistent counts (stored + rejected > read)", sc->name);
    if (getenv("FUZZ_SOURCE_VERBOSE"))
      fprintf(stderr,
              "fuzz_source: %s: status %d, read %lld, stored %lld, "
              "rejected %lld, %zu requests%s%s\n",
              sc->name, (int)res.status, (long long)res.read,
              (long long)res.stored, (long long)res.rejected,
              ib_replay_requests(rp), res.error[0] ? ", error: " : "",
              res.error);
    if (ib_replay_unmatched(rp) != NULL)
      broken("a request no replay rule foresaw", ib_replay_unmatched(rp));
    ib_replay_free(rp);
  }
  run_kpi(cfg, st, c);
  ib_store_close(st);
  ib_config_free(cfg);
  close(fd);
}
